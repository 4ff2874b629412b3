import type { FastifyReply } from 'fastify';
import { html, type SafeHtml } from 'src/common/html/html';

export const PRODUCT_NAME = 'Bridgekeeper';
/** The one stylesheet, served by the web module (no inline styles: the CSP forbids them). */
export const STYLESHEET_PATH = '/assets/bridgekeeper.css';
/** The product's icon (SVG), also served as /favicon.ico for pages that do not link it. */
export const ICON_PATH = '/assets/bridgekeeper.svg';

export interface PageOptions {
  title: string;
  /** Extra `form-action` sources (e.g. a client's redirect URI origin after a form post). */
  formActions?: readonly string[];
  /** Seconds for `Retry-After` (429, 503). */
  retryAfterSeconds?: number;
}

/**
 * The security headers of every server-rendered page: a CSP without inline scripts or styles that
 * forbids framing, no caching (pages may carry a CSRF token or a one-time secret), no referrer to other
 * sites, no MIME sniffing. A response whose URL holds a one-time secret uses `noReferrer` (which also
 * makes browsers send `Origin: null` with a form post, so the form itself is served from a URL without
 * the secret).
 */
export function pageHeaders(
  reply: FastifyReply,
  formActions: readonly string[] = [],
  noReferrer = false,
): void {
  const sources = [
    "'self'",
    ...formActions.filter(
      (s) => /^https?:\/\/[^\s;,'/]+$/.test(s) || /^[a-z][a-z0-9+.-]*:$/.test(s),
    ),
  ];
  void reply
    .header(
      'content-security-policy',
      `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${sources.join(' ')}; frame-ancestors 'none'; base-uri 'none'`,
    )
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .header('referrer-policy', noReferrer ? 'no-referrer' : 'same-origin')
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY');
}

/** The common layout: product name, one stylesheet, a centred card; readable on a phone. */
export function layout(title: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · ${PRODUCT_NAME}</title>
        <link rel="stylesheet" href="${STYLESHEET_PATH}" />
        <link rel="icon" href="${ICON_PATH}" type="image/svg+xml" />
      </head>
      <body>
        <main class="card">
          <p class="product">${PRODUCT_NAME}</p>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html> `;
}

/** Sends a full page with the security headers. */
export function sendPage(
  reply: FastifyReply,
  status: number,
  body: SafeHtml,
  o: PageOptions,
): FastifyReply {
  pageHeaders(reply, o.formActions);
  if (o.retryAfterSeconds !== undefined)
    void reply.header('retry-after', String(o.retryAfterSeconds));
  return reply.status(status).type('text/html; charset=utf-8').send(layout(o.title, body).value);
}

/** An error page: a title and one sentence, nothing from the request echoed unescaped. */
export function sendErrorPage(
  reply: FastifyReply,
  status: number,
  title: string,
  message: string,
  retryAfterSeconds?: number,
): FastifyReply {
  return sendPage(reply, status, html`<p class="error" role="alert">${message}</p>`, {
    title,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  });
}
