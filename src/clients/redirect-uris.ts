import { ClientsErrors } from 'src/clients/clients.errors';

/** At most this many redirect (or post-logout redirect) URIs per client. */
export const MAX_REDIRECT_URIS = 20;
export const MAX_REDIRECT_URI_LENGTH = 2000;

/** RFC 8252 §7.3: a loopback redirect URI names an IP literal; its port may vary per request. */
const LOOPBACK_IPS = new Set(['127.0.0.1', '[::1]']);
const LOOPBACK_HOSTS = new Set([...LOOPBACK_IPS, 'localhost']);
/** RFC 8252 §7.1: a private-use scheme is a reversed domain name (with a dot), e.g. com.example.app. */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/;

function parse(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/**
 * Why a URI cannot be registered as a redirect target, or undefined when it can: an absolute URL
 * written in its normalized form (so matching is plain string equality), without a fragment, user
 * info or wildcard; `https`, `http` only on loopback, or a private-use scheme of a native app.
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length === 0 || uri.length > MAX_REDIRECT_URI_LENGTH) return 'is empty or too long';
  const u = parse(uri);
  if (!u) return 'is not an absolute URL';
  if (u.hash !== '' || uri.includes('#')) return 'must not have a fragment';
  if (u.username !== '' || u.password !== '') return 'must not carry user info';
  if (uri.includes('*')) return 'must not contain a wildcard';
  if (u.protocol === 'http:') {
    if (!LOOPBACK_HOSTS.has(u.hostname)) return 'may use http only on a loopback address';
  } else if (u.protocol !== 'https:' && !PRIVATE_USE_SCHEME.test(u.protocol)) {
    return 'must use https (http only on loopback, or a reversed-domain private-use scheme)';
  }
  if (u.href !== uri) return `must be written in normalized form: ${u.href}`;
  return undefined;
}

/** The checked, deduplicated list (`field` names the GraphQL field in the error). */
export function checkedRedirectUris(field: string, uris: string[]): string[] {
  const unique = [...new Set(uris)];
  if (unique.length > MAX_REDIRECT_URIS) {
    throw ClientsErrors.invalid(`${field}: at most ${MAX_REDIRECT_URIS} URIs`);
  }
  for (const [i, uri] of unique.entries()) {
    const problem = redirectUriProblem(uri);
    if (problem) throw ClientsErrors.invalid(`${field}[${i}] ${problem}`);
  }
  return unique;
}

/**
 * Whether a requested redirect URI is one of the registered ones: exact string equality, except that
 * for a registered `http` loopback IP literal any port is accepted (RFC 8252 §7.3) when everything else
 * is equal. Nothing is normalized on the requested side: a different spelling does not match.
 */
export function matchesRegisteredUri(requested: string, registered: readonly string[]): boolean {
  if (requested.length > MAX_REDIRECT_URI_LENGTH) return false;
  if (registered.includes(requested)) return true;
  const req = parse(requested);
  if (!req || req.href !== requested || req.protocol !== 'http:' || !LOOPBACK_IPS.has(req.hostname))
    return false;
  const withoutPort = (u: URL) => {
    const c = new URL(u.href);
    c.port = '';
    return c.href;
  };
  const reqNoPort = withoutPort(req);
  return registered.some((r) => {
    const reg = parse(r);
    return (
      reg !== undefined &&
      reg.protocol === 'http:' &&
      LOOPBACK_IPS.has(reg.hostname) &&
      withoutPort(reg) === reqNoPort
    );
  });
}
