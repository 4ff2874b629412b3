import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { cookieName, readCookie, setCookie } from 'src/common/html/cookies';

const CSRF_COOKIE = 'bk_csrf';

/**
 * CSRF protection for the server-rendered forms, the same for every page (login, setup, set-password,
 * logout and the provider's end-session confirmation):
 * - a random per-browser secret in an `HttpOnly; SameSite=Lax` cookie (`__Host-` on https), which a
 *   cross-site page can neither read nor set;
 * - the form's token is SHA-256(secret, purpose, binding), where the binding is what the form acts on
 *   (the pending authorization request for the login form, the browser session for logout, the one-time
 *   link for set-password): a token for one form is useless for another;
 * - and every POST must come from our own origin (`Origin`, or `Referer` when a browser omits `Origin`).
 */
export class Csrf {
  private readonly cookie: string;
  private readonly secure: boolean;
  private readonly origin: string;

  constructor(publicUrl: string) {
    this.cookie = cookieName(CSRF_COOKIE, publicUrl);
    this.secure = publicUrl.startsWith('https://');
    this.origin = new URL(publicUrl).origin;
  }

  /** The token to put in a form's hidden `csrf` field; sets the browser's secret cookie when absent. */
  issue(request: FastifyRequest, reply: FastifyReply, purpose: string, binding: string): string {
    let secret = readCookie(request, this.cookie);
    if (!secret || secret.length !== 43) {
      secret = randomBytes(32).toString('base64url');
      setCookie(reply, this.cookie, secret, { secure: this.secure });
    }
    return tokenFor(secret, purpose, binding);
  }

  /**
   * Whether a POST is a genuine submission of our form: same origin, and a token matching this
   * browser's secret, the purpose and the binding.
   */
  verify(request: FastifyRequest, purpose: string, binding: string, token: unknown): boolean {
    if (!this.sameOrigin(request)) return false;
    const secret = readCookie(request, this.cookie);
    if (!secret || typeof token !== 'string' || token.length !== 43) return false;
    const expected = Buffer.from(tokenFor(secret, purpose, binding));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** `Origin` (or, without it, the `Referer`'s origin) is our public origin. */
  sameOrigin(request: FastifyRequest): boolean {
    const origin = request.headers.origin;
    if (typeof origin === 'string') return origin === this.origin;
    const referer = request.headers.referer;
    if (typeof referer !== 'string') return false;
    try {
      return new URL(referer).origin === this.origin;
    } catch {
      return false;
    }
  }
}

function tokenFor(secret: string, purpose: string, binding: string): string {
  return createHash('sha256')
    .update(`${secret.length}:${secret}${purpose.length}:${purpose}${binding.length}:${binding}`)
    .digest('base64url');
}
