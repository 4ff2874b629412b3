import { OauthErrors } from 'src/oauth/oauth.errors';

/** The parameters of a form-encoded OAuth request: each at most once (RFC 6749 §3.1, §3.2). */
export class OauthForm {
  private constructor(private readonly params: Map<string, string>) {}

  static parse(contentType: string | undefined, body: unknown): OauthForm {
    if (!contentType || !/^application\/x-www-form-urlencoded\b/i.test(contentType)) {
      throw OauthErrors.invalidRequest('The body must be application/x-www-form-urlencoded');
    }
    const params = new Map<string, string>();
    if (body && typeof body === 'object') {
      for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
        if (Array.isArray(value)) {
          throw OauthErrors.invalidRequest(`Parameter ${safeName(key)} was sent more than once`);
        }
        // Empty values count as omitted (RFC 6749 §3.1).
        if (typeof value === 'string' && value !== '') params.set(key, value);
      }
    }
    return new OauthForm(params);
  }

  get(name: string): string | undefined {
    return this.params.get(name);
  }

  require(name: string): string {
    const v = this.params.get(name);
    if (v === undefined) throw OauthErrors.invalidRequest(`Parameter ${name} is required`);
    return v;
  }
}

/** A parameter name fit to repeat in an error message (never a value). */
function safeName(key: string): string {
  return /^[a-z_]{1,40}$/.test(key) ? key : 'a parameter';
}

/** RFC 6749 §3.3: space-delimited scope tokens, each at most once. */
export function parseScope(scope: string | undefined): string[] | undefined {
  if (scope === undefined) return undefined;
  const parts = scope.split(' ').filter((s) => s.length > 0);
  if (parts.length === 0 || parts.length > 50 || parts.some((p) => !SCOPE.test(p))) {
    throw OauthErrors.invalidScope('scope is not a list of scope tokens');
  }
  return [...new Set(parts)];
}

const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/;
