export { formFields } from 'src/common/html/form-fields';

/** Where sign-in may return to: the authorization endpoint, and the device page (RFC 8628). */
const RETURN_PATHS = ['/oauth2/authorize', '/device'];

/**
 * A `return_to` we may redirect to after sign-in: only a relative URL of our own authorization endpoint
 * (`/oauth2/authorize` or `/oauth2/authorize?…`) or device page (`/device?…`), never anything that a
 * browser could read as another host (`//`, `\`, a scheme, control characters). Undefined for an
 * absent value; null for a refused one.
 */
export function safeReturnTo(value: unknown): string | undefined | null {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 4096) return null;
  if (!RETURN_PATHS.some((p) => value === p || value.startsWith(`${p}?`))) return null;
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\#]/.test(value)) return null;
  return value;
}

/**
 * The `form-action` sources the login form needs: after `POST /login` the browser follows 303 to
 * `return_to` and then the authorization endpoint's redirect to the client, and browsers apply
 * `form-action` to that whole redirect chain. So the origin (or, for a native app, the scheme) of the
 * `redirect_uri` in `return_to` is allowed; the authorization endpoint still checks that URI exactly
 * against the client's registered list before redirecting anywhere.
 */
export function redirectTargetOf(returnTo: string | undefined): string[] {
  if (!returnTo) return [];
  const query = returnTo.indexOf('?');
  if (query < 0) return [];
  const raw = new URLSearchParams(returnTo.slice(query + 1)).get('redirect_uri');
  if (!raw) return [];
  try {
    const u = new URL(raw);
    if (u.protocol === 'http:' || u.protocol === 'https:') return [u.origin];
    const unsafe = ['javascript:', 'data:', 'blob:', 'filesystem:', 'about:', 'file:'];
    return /^[a-z][a-z0-9+.-]*:$/.test(u.protocol) && !unsafe.includes(u.protocol)
      ? [u.protocol]
      : [];
  } catch {
    return [];
  }
}
