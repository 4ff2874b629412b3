import { Body, Controller, Get, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from 'src/common/decorators/public.decorator';
import { WebExceptionFilter } from 'src/common/html/web-exception.filter';
import { AcceptsBody } from 'src/common/validation/accepts-body';
import { Csrf } from 'src/common/html/csrf';
import { html } from 'src/common/html/html';
import { sendErrorPage, sendPage } from 'src/common/html/page';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import {
  END_SESSION_CSRF_PURPOSE,
  type EndSessionOutcome,
  type EndSessionParams,
  EndSessionService,
} from 'src/oauth/end-session.service';

const PARAMS = ['id_token_hint', 'post_logout_redirect_uri', 'state', 'client_id'] as const;
const PATH = '/oauth2/end_session';

/**
 * `GET|POST /oauth2/end_session` (OIDC RP-Initiated Logout 1.0): a browser endpoint answering with a
 * redirect or a page (the confirmation form, "signed out", or an error), never cached.
 */
// A browser endpoint: errors (a database outage too) are pages, never JSON.
@UseFilters(WebExceptionFilter)
@Controller('oauth2/end_session')
export class EndSessionController {
  private readonly csrf: Csrf;

  constructor(
    private readonly endSessions: EndSessionService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.csrf = new Csrf(config.publicUrl);
  }

  @Get()
  @Public()
  async get(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.handle(req, reply, req.query, false);
  }

  @Post()
  @Public()
  @AcceptsBody('form')
  async post(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Body() body: unknown,
  ): Promise<void> {
    await this.handle(req, reply, body, true);
  }

  private async handle(
    req: FastifyRequest,
    reply: FastifyReply,
    input: unknown,
    post: boolean,
  ): Promise<void> {
    const fields = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
    const params: EndSessionParams = {};
    for (const name of PARAMS) {
      const v = fields[name];
      if (Array.isArray(v)) {
        await sendErrorPage(reply, 400, 'Sign-out request refused', `${name} was sent twice.`);
        return;
      }
      if (typeof v === 'string' && v !== '') params[name] = v;
    }
    // The confirmation form's POST carries our CSRF token; an RP's own form POST does not.
    const csrfToken = fields.csrf;
    const confirmation =
      post && csrfToken !== undefined
        ? (sessionId: string) =>
            this.csrf.verify(req, END_SESSION_CSRF_PURPOSE, sessionId, csrfToken)
        : undefined;
    const outcome = await this.endSessions.endSession(req, reply, params, confirmation);
    await this.render(req, reply, outcome);
  }

  private async render(
    req: FastifyRequest,
    reply: FastifyReply,
    outcome: EndSessionOutcome,
  ): Promise<void> {
    switch (outcome.kind) {
      case 'page':
        await sendErrorPage(reply, outcome.status, outcome.title, outcome.message);
        return;
      case 'confirm': {
        const token = this.csrf.issue(req, reply, END_SESSION_CSRF_PURPOSE, outcome.sessionId);
        const hidden = Object.entries(outcome.params)
          .filter(([k]) => k !== 'id_token_hint')
          .map(([k, v]) => html`<input type="hidden" name="${k}" value="${v as string}" />`);
        await sendPage(
          reply,
          200,
          html`<p>Do you want to sign out of Bridgekeeper on this browser?</p>
            <form method="post" action="${PATH}">
              <input type="hidden" name="csrf" value="${token}" />
              ${hidden}
              <button type="submit">Sign out</button>
            </form>`,
          // The form's POST is answered with a redirect there: CSP form-action must allow it.
          {
            title: 'Sign out',
            formActions: [
              ...(outcome.location ? [new URL(outcome.location).origin] : []),
              ...(outcome.upstreamOrigin ? [outcome.upstreamOrigin] : []),
            ],
          },
        );
        return;
      }
      case 'done':
        if (outcome.location) {
          await reply
            .header('cache-control', 'no-store')
            .header('referrer-policy', 'no-referrer')
            .redirect(outcome.location, 303);
          return;
        }
        await sendPage(reply, 200, html`<p>You are signed out.</p>`, { title: 'Signed out' });
        return;
    }
  }
}
