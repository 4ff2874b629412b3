import { AuditService } from 'src/audit/audit.service';
import { Controller, Get, Inject, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { ActorsService } from 'src/actors/actors.service';
import { BrowserSessionsService } from 'src/browser-sessions/browser-sessions.service';
import { Public } from 'src/common/decorators/public.decorator';
import { AcceptsBody } from 'src/common/validation/accepts-body';
import { Csrf } from 'src/common/html/csrf';
import { html, type SafeHtml } from 'src/common/html/html';
import { sendErrorPage, sendPage } from 'src/common/html/page';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { MetricsService } from 'src/metrics/metrics.service';
import { SsoLoginService } from 'src/sso/sso-login.service';
import { type SsoProvider, SsoProvidersService } from 'src/sso/sso-providers.service';
import { formFields, redirectTargetOf, safeReturnTo } from 'src/web/form';
import { LoginThrottle } from 'src/web/login-throttle';
import { WebExceptionFilter } from 'src/common/html/web-exception.filter';
import { sendSignedOut } from 'src/web/signed-out';

/** The one answer for an unknown login and a wrong password (SECURITY rule 22). */
const WRONG_CREDENTIALS = 'Wrong username or password.';
const CSRF_REFUSED =
  'This form expired or was sent from another site. Go back, reload the page and try again.';

/**
 * The login page (issue 9 §3). Contract with the provider's authorization endpoint:
 * `GET /login?return_to=/oauth2/authorize?…` shows the form (or, with a live session and without
 * `prompt=login`, goes straight back); `POST /login` signs in and answers 303 to `return_to` with a
 * fresh session cookie. `return_to` is only ever a relative URL of `/oauth2/authorize`.
 */
@Controller()
@Public()
@UseFilters(WebExceptionFilter)
export class LoginController {
  private readonly csrf: Csrf;
  private readonly localLogin: boolean;

  constructor(
    private readonly accounts: LocalAccountsService,
    private readonly actors: ActorsService,
    private readonly sessions: BrowserSessionsService,
    private readonly throttle: LoginThrottle,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
    private readonly ssoProviders: SsoProvidersService,
    private readonly sso: SsoLoginService,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.csrf = new Csrf(config.publicUrl);
    this.localLogin = config.auth.localLoginEnabled;
  }

  @Get('login')
  async form(
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @Query('return_to') rawReturnTo: unknown,
    @Query('prompt') prompt: unknown,
    @Query('login_hint') loginHint: unknown,
  ): Promise<FastifyReply> {
    const returnTo = safeReturnTo(rawReturnTo);
    if (returnTo === null) return this.badReturnTo(reply);
    const session = await this.sessions.current(request);
    if (session && prompt !== 'login') {
      if (returnTo)
        return reply.status(303).header('cache-control', 'no-store').redirect(returnTo, 303);
      return this.signedIn(request, reply, session.id, session.actorId);
    }
    // OIDC `login_hint`: on /login itself, or in the pending authorization request.
    const fromRequest = returnTo
      ? new URLSearchParams(returnTo.slice(returnTo.indexOf('?') + 1)).get('login_hint')
      : null;
    const given = typeof loginHint === 'string' ? loginHint : fromRequest;
    const hint = given && given.length <= 320 ? given : '';
    const providers = await this.ssoProviders.enabled();
    // Local login off and one provider: straight to it (issue 9 §4), its parameters passed along.
    if (!this.localLogin && providers.length === 1) {
      return reply
        .header('cache-control', 'no-store')
        .redirect(ssoStartUrl(providers[0], returnTo, request.query), 303);
    }
    return this.renderForm(request, reply, 200, returnTo, hint, undefined, undefined, providers);
  }

  @Post('login')
  @AcceptsBody('form')
  async submit(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const f = formFields(request);
    const returnTo = safeReturnTo(f.return_to);
    if (returnTo === null) return this.badReturnTo(reply);
    if (!this.localLogin) {
      return sendErrorPage(
        reply,
        403,
        'Sign-in refused',
        'Signing in with a password is switched off here. Use one of the sign-in providers.',
      );
    }
    if (!this.csrf.verify(request, 'login', returnTo ?? '', f.csrf)) {
      this.logger.info({ event: 'login.csrf_refused', reqId: request.id }, 'login form refused');
      return sendErrorPage(reply, 403, 'Sign-in refused', CSRF_REFUSED);
    }
    const login = (f.username ?? '').trim();
    const password = f.password ?? '';
    const address = request.ip;
    const before = await this.throttle.check(login, address);
    if (before.locked)
      return this.locked(request, reply, returnTo, login, before.retryAfterSeconds);
    const account = login && password ? await this.accounts.verify(login, password) : null;
    const actor = account ? await this.actors.snapshotById(account.actorId) : null;
    if (!account || !actor || actor.status !== 'ACTIVE') {
      const after = await this.throttle.failed(login, address);
      this.metrics.logins.inc({ result: 'failure' });
      // Never the login typed (it may be a mistyped password): the actor, when the account exists.
      this.audit.security(
        {
          action: 'login.failure',
          outcome: 'FAILURE',
          actorId: account?.actorId ?? null,
          details: { method: 'password' },
        },
        request,
      );
      this.logger.info(
        {
          event: 'login.failure',
          reqId: request.id,
          ...(account ? { actorId: account.actorId } : {}),
        },
        'sign-in failed',
      );
      if (after.locked)
        return this.locked(request, reply, returnTo, login, after.retryAfterSeconds);
      return this.renderForm(request, reply, 401, returnTo, login, WRONG_CREDENTIALS);
    }
    await this.throttle.succeeded(login);
    const session = await this.sessions.start(reply, account.actorId, { amr: ['pwd'] });
    this.metrics.logins.inc({ result: 'success' });
    this.audit.security(
      {
        action: 'login.success',
        actorId: account.actorId,
        targetType: 'browser_session',
        targetId: session.id,
        details: { method: 'password' },
      },
      request,
    );
    this.logger.info(
      {
        event: 'login.success',
        reqId: request.id,
        actorId: account.actorId,
        sessionId: session.id,
      },
      'signed in',
    );
    return reply.header('cache-control', 'no-store').redirect(returnTo ?? '/login', 303);
  }

  @Post('logout')
  @AcceptsBody('form')
  async logout(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const f = formFields(request);
    const session = await this.sessions.current(request);
    if (!session)
      return sendPage(reply, 200, html`<p>You are signed out.</p>`, { title: 'Signed out' });
    if (!this.csrf.verify(request, 'logout', session.id, f.csrf)) {
      return sendErrorPage(reply, 403, 'Sign-out refused', CSRF_REFUSED);
    }
    await this.sessions.end(session.id);
    this.sessions.clearCookie(reply);
    this.logger.info(
      { event: 'logout', reqId: request.id, actorId: session.actorId, sessionId: session.id },
      'signed out',
    );
    // A session that came through an SSO provider signs out there too (issue 9 §4).
    return sendSignedOut(reply, await this.sso.upstreamLogout(session.id));
  }

  @Get('logout')
  async logoutForm(
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const session = await this.sessions.current(request);
    if (!session)
      return sendPage(reply, 200, html`<p>You are signed out.</p>`, { title: 'Signed out' });
    return this.signedIn(request, reply, session.id, session.actorId);
  }

  private async signedIn(
    request: FastifyRequest,
    reply: FastifyReply,
    sessionId: string,
    actorId: string,
  ): Promise<FastifyReply> {
    const actor = await this.actors.snapshotById(actorId);
    const who = actor.name ?? actor.preferredUsername ?? actor.email ?? 'you';
    const token = this.csrf.issue(request, reply, 'logout', sessionId);
    const upstream = await this.sso.upstreamOrigin(sessionId);
    return sendPage(
      reply,
      200,
      html`<p>You are signed in as <strong>${who}</strong>.</p>
        <form method="post" action="/logout">
          <input type="hidden" name="csrf" value="${token}" />
          <button type="submit">Sign out</button>
        </form>`,
      // The sign-out may continue at the SSO provider: CSP form-action covers that redirect.
      { title: 'Signed in', formActions: upstream ? [upstream] : [] },
    );
  }

  private async renderForm(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    returnTo: string | undefined,
    username: string,
    error?: string,
    retryAfterSeconds?: number,
    enabledProviders?: SsoProvider[],
  ): Promise<FastifyReply> {
    const providers = enabledProviders ?? (await this.ssoProviders.enabled());
    const buttons = providers.map(
      (p) =>
        html`<p>
          <a class="button" href="${ssoStartUrl(p, returnTo, request.query)}"
            >Continue with ${p.displayName}</a
          >
        </p>`,
    );
    if (!this.localLogin) {
      const none = html`<p>No sign-in provider is available. Ask an administrator.</p>`;
      return sendPage(
        reply,
        providers.length > 0 ? status : 503,
        providers.length > 0 ? html`${buttons}` : none,
        {
          title: 'Sign in',
        },
      );
    }
    const token = this.csrf.issue(request, reply, 'login', returnTo ?? '');
    const body: SafeHtml = html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      ${buttons}
      <form method="post" action="/login">
        <input type="hidden" name="csrf" value="${token}" />
        ${returnTo ? html`<input type="hidden" name="return_to" value="${returnTo}" />` : ''}
        <label for="username">Username or email</label>
        <input
          id="username"
          name="username"
          type="text"
          autocomplete="username"
          autocapitalize="none"
          spellcheck="false"
          required
          value="${username}"
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
        />
        <button type="submit">Sign in</button>
      </form>`;
    return sendPage(reply, status, body, {
      title: 'Sign in',
      formActions: redirectTargetOf(returnTo),
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    });
  }

  private locked(
    request: FastifyRequest,
    reply: FastifyReply,
    returnTo: string | undefined,
    login: string,
    seconds: number,
  ): Promise<FastifyReply> {
    this.metrics.logins.inc({ result: 'locked' });
    this.audit.security(
      {
        action: 'login.lockout',
        outcome: 'FAILURE',
        actorId: null,
        details: { retryAfterSeconds: seconds },
      },
      request,
    );
    this.logger.warn(
      { event: 'login.locked', reqId: request.id, retryAfterSeconds: seconds },
      'sign-in locked out',
    );
    return this.renderForm(
      request,
      reply,
      429,
      returnTo,
      login,
      `Too many failed sign-ins. Try again in ${seconds} seconds.`,
      seconds,
    );
  }

  private badReturnTo(reply: FastifyReply): FastifyReply {
    return sendErrorPage(
      reply,
      400,
      'Something is wrong with this request',
      'This sign-in link is not valid. Go back to the application and start again.',
    );
  }
}

/**
 * `/login/sso/<name>` for the pending authorization request, with the provider's allow-listed
 * parameters of the current login URL (e.g. `login_hint`, `invite`).
 */
function ssoStartUrl(provider: SsoProvider, returnTo: string | undefined, query: unknown): string {
  const params = new URLSearchParams();
  if (returnTo) params.set('return_to', returnTo);
  const q = (query && typeof query === 'object' ? query : {}) as Record<string, unknown>;
  for (const name of provider.forwardParams) {
    const v = q[name];
    if (typeof v === 'string' && v !== '' && v.length <= 512) params.set(name, v);
  }
  const search = params.toString();
  return `/login/sso/${provider.name}${search ? `?${search}` : ''}`;
}
