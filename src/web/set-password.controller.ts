import { Controller, Get, Inject, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccountLinksService, SET_PASSWORD_PATH } from 'src/accounts/account-links.service';
import { BrowserSessionsService } from 'src/browser-sessions/browser-sessions.service';
import { sha256Base64url } from 'src/common/crypto/sha256';
import { Public } from 'src/common/decorators/public.decorator';
import { AcceptsBody } from 'src/common/validation/accepts-body';
import { AppError } from 'src/common/errors/app-error';
import { Csrf } from 'src/common/html/csrf';
import { html } from 'src/common/html/html';
import { sendErrorPage, sendPage } from 'src/common/html/page';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { formFields } from 'src/web/form';
import { LinkCookie } from 'src/web/link-cookie';
import { confirmProblem, newPasswordFields } from 'src/web/password-fields';
import { WebExceptionFilter } from 'src/common/html/web-exception.filter';
import { LoginThrottle } from 'src/web/login-throttle';

const LINK_INVALID =
  'This link is not valid: it was already used, it expired, or it was mistyped. Ask your administrator for a new one.';
const CSRF_REFUSED =
  'This form expired or was sent from another site. Open the link from your email again.';

/**
 * Set a password from a one-time link (issue 9 §1): an invite's link creates the local account bound to
 * the invited membership; a reset link changes the password and ends the account's browser sessions.
 * Either way the person is then signed in.
 */
@Controller(SET_PASSWORD_PATH.slice(1))
@Public()
@UseFilters(WebExceptionFilter)
export class SetPasswordController {
  private readonly csrf: Csrf;
  private readonly link: LinkCookie;

  constructor(
    private readonly links: AccountLinksService,
    private readonly sessions: BrowserSessionsService,
    private readonly throttle: LoginThrottle,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.csrf = new Csrf(config.publicUrl);
    this.link = new LinkCookie(config.publicUrl);
  }

  @Get()
  async form(
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @Query('token') token: unknown,
  ): Promise<FastifyReply> {
    if (token !== undefined) {
      // Guessing links: unknown links count as failed sign-ins of the address (the login throttle).
      const before = await this.throttle.checkAddress(request.ip);
      if (before.locked) return tooMany(reply, before.retryAfterSeconds);
      if (typeof token !== 'string' || !(await this.links.pending(token))) {
        const after = await this.throttle.failedAddress(request.ip);
        return after.locked ? tooMany(reply, after.retryAfterSeconds) : invalid(reply);
      }
      return this.link.moveToCookie(reply, token, SET_PASSWORD_PATH);
    }
    const secret = this.link.read(request);
    if (!secret) return invalid(reply);
    return this.render(request, reply, secret, 200);
  }

  @Post()
  @AcceptsBody('form')
  async submit(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const secret = this.link.read(request);
    if (!secret) return invalid(reply);
    const f = formFields(request);
    if (!this.csrf.verify(request, 'set-password', sha256Base64url(secret), f.csrf)) {
      return sendErrorPage(reply, 403, 'Refused', CSRF_REFUSED);
    }
    const problem = confirmProblem(f);
    if (problem) return this.render(request, reply, secret, 400, problem);
    let done;
    try {
      done = await this.links.complete(secret, { password: f.password });
    } catch (err) {
      if (err instanceof AppError && (err.kind === 'BAD_INPUT' || err.kind === 'CONFLICT'))
        return this.render(request, reply, secret, 400, err.message);
      throw err;
    }
    if (!done) return invalid(reply);
    this.link.clear(reply);
    // A new password ends every earlier session of the account (a reset after a compromise).
    if (done.purpose === 'RESET') await this.sessions.endAllForActor(done.actorId);
    await this.sessions.start(reply, done.actorId, { amr: ['pwd'] });
    return reply.header('cache-control', 'no-store').redirect('/login', 303);
  }

  private async render(
    request: FastifyRequest,
    reply: FastifyReply,
    secret: string,
    status: number,
    error?: string,
  ): Promise<FastifyReply> {
    const pending = await this.links.pending(secret);
    if (!pending) return invalid(reply);
    const token = this.csrf.issue(request, reply, 'set-password', sha256Base64url(secret));
    return sendPage(
      reply,
      status,
      html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
        <p>
          ${pending.purpose === 'RESET' ? 'Choose a new password' : 'Choose a password'} for
          <strong>${pending.login ?? pending.displayName ?? 'your account'}</strong>.
        </p>
        <form method="post" action="${SET_PASSWORD_PATH}">
          <input type="hidden" name="csrf" value="${token}" />
          ${newPasswordFields(this.config.auth.passwordMinLength)}
          <button type="submit">Set password</button>
        </form>`,
      { title: pending.purpose === 'RESET' ? 'Reset your password' : 'Set your password' },
    );
  }
}

function tooMany(reply: FastifyReply, seconds: number): FastifyReply {
  return sendErrorPage(
    reply,
    429,
    'Too many attempts',
    `Too many links that were not valid came from your address. Try again in ${seconds} seconds.`,
    seconds,
  );
}

function invalid(reply: FastifyReply): FastifyReply {
  return sendErrorPage(reply, 404, 'Link not valid', LINK_INVALID);
}
