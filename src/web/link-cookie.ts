import type { FastifyReply, FastifyRequest } from 'fastify';
import { cookieName, readCookie, setCookie } from 'src/common/html/cookies';
import { pageHeaders } from 'src/common/html/page';

const LINK_COOKIE = 'bk_link';
/** How long an opened one-time link stays in the browser while its form is filled in. */
const LINK_COOKIE_SECONDS = 3600;

/**
 * A one-time link's secret arrives in a URL (`/setup/<secret>`, `/login/set-password?token=…`). The
 * first GET moves it into an `HttpOnly` cookie and redirects to the same page without it, with
 * `Referrer-Policy: no-referrer`: the secret never leaves in a `Referer`, and the form page (served
 * without the secret in its URL) keeps the normal referrer policy, so browsers send a real `Origin` with
 * the form post (under `no-referrer` they send `Origin: null`, which the CSRF check refuses).
 */
export class LinkCookie {
  private readonly name: string;
  private readonly secure: boolean;

  constructor(publicUrl: string) {
    this.name = cookieName(LINK_COOKIE, publicUrl);
    this.secure = publicUrl.startsWith('https://');
  }

  /** Stores the secret and answers 303 to `to` (no referrer, no caching). */
  moveToCookie(reply: FastifyReply, secret: string, to: string): FastifyReply {
    setCookie(reply, this.name, secret, {
      secure: this.secure,
      maxAgeSeconds: LINK_COOKIE_SECONDS,
    });
    pageHeaders(reply, [], true);
    return reply.redirect(to, 303);
  }

  read(request: FastifyRequest): string | undefined {
    return readCookie(request, this.name);
  }

  clear(reply: FastifyReply): void {
    setCookie(reply, this.name, '', { secure: this.secure, maxAgeSeconds: 0 });
  }
}
