import type { FastifyReply } from 'fastify';
import { html } from 'src/common/html/html';
import { sendPage } from 'src/common/html/page';

/**
 * The end of a sign-out: on to `next` when there is one (an SSO provider's sign-out, or a client's
 * registered post-logout URI), without a referrer; otherwise the "signed out" page.
 */
export function sendSignedOut(reply: FastifyReply, next?: string): FastifyReply {
  if (next) {
    return reply
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .redirect(next, 303);
  }
  return sendPage(
    reply,
    200,
    html`<p>You are signed out.</p>
      <p><a href="/login">Sign in again</a></p>`,
    { title: 'Signed out' },
  );
}
