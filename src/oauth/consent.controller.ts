import { Controller, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { BrowserSessionsService } from 'src/browser-sessions/browser-sessions.service';
import { sha256Base64url } from 'src/common/crypto/sha256';
import { Public } from 'src/common/decorators/public.decorator';
import { Csrf } from 'src/common/html/csrf';
import { formFields } from 'src/common/html/form-fields';
import { html } from 'src/common/html/html';
import { sendErrorPage, sendPage } from 'src/common/html/page';
import { WebExceptionFilter } from 'src/common/html/web-exception.filter';
import { LOGGER } from 'src/common/logging/logging.constants';
import { AcceptsBody } from 'src/common/validation/accepts-body';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import {
  type AuthorizeOutcome,
  AuthorizeService,
  type ConsentRequest,
} from 'src/oauth/authorize.service';
import { SCOPE_WORDS } from 'src/oauth/scopes';

const PURPOSE = 'consent';
const PATH = '/oauth2/consent';

const binding = (c: { sessionId: string; query: string }) =>
  `${c.sessionId}:${sha256Base64url(c.query)}`;

/** Answers an authorization outcome: a redirect, an error page, or the consent page. */
export async function sendAuthorizeOutcome(
  request: FastifyRequest,
  reply: FastifyReply,
  outcome: AuthorizeOutcome,
  csrf: Csrf,
): Promise<void> {
  switch (outcome.kind) {
    case 'page':
      await sendErrorPage(reply, outcome.status, outcome.title, outcome.message);
      return;
    case 'consent':
      await sendConsentPage(request, reply, outcome.consent, csrf);
      return;
    default:
      await reply
        .header('cache-control', 'no-store')
        .header('pragma', 'no-cache')
        .header('referrer-policy', 'no-referrer')
        .redirect(outcome.location, outcome.kind === 'login' ? 303 : 302);
  }
}

/**
 * The consent page (issue 11 §1): before a client that registered itself (RFC 7591) gets a code, the
 * signed-in person sees its name (as it calls itself: not verified), where it sends them back, and
 * what it asks for, and approves or denies. The form is bound to the session and the request.
 */
async function sendConsentPage(
  request: FastifyRequest,
  reply: FastifyReply,
  c: ConsentRequest,
  csrf: Csrf,
): Promise<void> {
  const token = csrf.issue(request, reply, PURPOSE, binding(c));
  const target =
    c.resource === 'mcp' ? 'Bridgekeeper’s MCP server (AI agents)' : 'Bridgekeeper’s API';
  const back = new URL(c.redirectUri);
  await sendPage(
    reply,
    200,
    html`<p>
        <strong>${c.clientName}</strong> asks to act as you on ${target}. It registered itself: its
        name is not verified.
      </p>
      <ul class="scopes">
        ${c.scope.map(
          (s) =>
            html`<li>${SCOPE_WORDS[s] ?? 'Use the scope'} <span class="hint">(${s})</span></li>`,
        )}
      </ul>
      <p class="hint">It will receive your answer at ${back.origin}. Client id: ${c.clientId}</p>
      <form method="post" action="${PATH}">
        <input type="hidden" name="csrf" value="${token}" />
        <input type="hidden" name="request" value="${c.query}" />
        <button type="submit" name="decision" value="approve">Approve</button>
        <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
      </form>`,
    // The answer is a redirect to the client: CSP form-action must allow its origin.
    { title: 'Approve this application?', formActions: [back.origin] },
  );
}

/** `POST /oauth2/consent`: the person's answer; the authorization request runs again with it. */
@Controller()
@Public()
@UseFilters(WebExceptionFilter)
export class ConsentController {
  private readonly csrf: Csrf;

  constructor(
    private readonly authorizations: AuthorizeService,
    private readonly sessions: BrowserSessionsService,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.csrf = new Csrf(config.publicUrl);
  }

  @Post('oauth2/consent')
  @AcceptsBody('form')
  async answer(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const f = formFields(request);
    const session = await this.sessions.current(request);
    const query = f.request ?? '';
    if (
      !session ||
      !this.csrf.verify(request, PURPOSE, binding({ sessionId: session.id, query }), f.csrf)
    ) {
      await sendErrorPage(
        reply,
        403,
        'Request refused',
        'This form expired or was sent from another site. Start again from the application.',
      );
      return;
    }
    if (f.decision !== 'approve' && f.decision !== 'deny') {
      await sendErrorPage(reply, 400, 'Request refused', 'Choose Approve or Deny.');
      return;
    }
    const consent = f.decision === 'approve' ? 'approved' : 'denied';
    const outcome = await this.authorizations.authorize(request, {
      query: Object.fromEntries(new URLSearchParams(query)),
      consent,
    });
    this.logger.info(
      { actorId: session.actorId, clientId: new URLSearchParams(query).get('client_id'), consent },
      'consent answered',
    );
    await sendAuthorizeOutcome(request, reply, outcome, this.csrf);
  }
}
