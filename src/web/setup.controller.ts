import { Controller, Get, Inject, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from 'src/common/errors/app-error';
import { SetupService } from 'src/accounts/setup.service';
import { BrowserSessionsService } from 'src/browser-sessions/browser-sessions.service';
import { sha256Base64url } from 'src/common/crypto/sha256';
import { Public } from 'src/common/decorators/public.decorator';
import { AcceptsBody } from 'src/common/validation/accepts-body';
import { Csrf } from 'src/common/html/csrf';
import { html } from 'src/common/html/html';
import { sendErrorPage, sendPage } from 'src/common/html/page';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { formFields } from 'src/web/form';
import { LinkCookie } from 'src/web/link-cookie';
import { confirmProblem, newPasswordFields } from 'src/web/password-fields';
import { WebExceptionFilter } from 'src/common/html/web-exception.filter';

const CSRF_REFUSED =
  'This form expired or was sent from another site. Open the setup link again and retry.';

/**
 * First-administrator setup (issue 9 §1): `/setup/<secret>` while no administrator exists; 404 (the
 * same page as any unknown path) once one does, and for any wrong or used secret.
 */
@Controller('setup')
@Public()
@UseFilters(WebExceptionFilter)
export class SetupController {
  private readonly csrf: Csrf;
  private readonly link: LinkCookie;

  constructor(
    private readonly setup: SetupService,
    private readonly sessions: BrowserSessionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.csrf = new Csrf(config.publicUrl);
    this.link = new LinkCookie(config.publicUrl);
  }

  @Get(':secret')
  async open(@Param('secret') secret: string, @Res() reply: FastifyReply): Promise<FastifyReply> {
    if (!(await this.setup.valid(secret))) return notFound(reply);
    return this.link.moveToCookie(reply, secret, '/setup');
  }

  @Get()
  async form(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const secret = this.link.read(request);
    if (!secret || !(await this.setup.valid(secret))) return notFound(reply);
    return this.render(request, reply, secret, 200, {});
  }

  @Post()
  @AcceptsBody('form')
  async submit(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const secret = this.link.read(request);
    if (!secret || !(await this.setup.valid(secret))) return notFound(reply);
    const f = formFields(request);
    if (!this.csrf.verify(request, 'setup', sha256Base64url(secret), f.csrf)) {
      return sendErrorPage(reply, 403, 'Setup refused', CSRF_REFUSED);
    }
    const problem = confirmProblem(f);
    if (problem) return this.render(request, reply, secret, 400, f, problem);
    let created;
    try {
      created = await this.setup.createFirstAdmin(secret, {
        username: f.username,
        email: f.email,
        displayName: f.display_name,
        password: f.password,
      });
    } catch (err) {
      if (err instanceof AppError && (err.kind === 'BAD_INPUT' || err.kind === 'CONFLICT'))
        return this.render(request, reply, secret, 400, f, err.message);
      throw err;
    }
    if (!created) return notFound(reply);
    this.link.clear(reply);
    await this.sessions.start(reply, created.actorId, { amr: ['pwd'] });
    return reply.header('cache-control', 'no-store').redirect('/login', 303);
  }

  private render(
    request: FastifyRequest,
    reply: FastifyReply,
    secret: string,
    status: number,
    f: Record<string, string>,
    error?: string,
  ): FastifyReply {
    const token = this.csrf.issue(request, reply, 'setup', sha256Base64url(secret));
    return sendPage(
      reply,
      status,
      html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
        <p>Create the first administrator of this Bridgekeeper.</p>
        <form method="post" action="/setup">
          <input type="hidden" name="csrf" value="${token}" />
          <label for="username">Username</label>
          <input
            id="username"
            name="username"
            type="text"
            autocomplete="username"
            autocapitalize="none"
            spellcheck="false"
            required
            value="${f.username ?? ''}"
          />
          <label for="email">Email (optional)</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="email"
            value="${f.email ?? ''}"
          />
          <label for="display_name">Display name (optional)</label>
          <input
            id="display_name"
            name="display_name"
            type="text"
            autocomplete="name"
            value="${f.display_name ?? ''}"
          />
          ${newPasswordFields(this.config.auth.passwordMinLength)}
          <button type="submit">Create administrator</button>
        </form>`,
      { title: 'Set up Bridgekeeper' },
    );
  }
}

function notFound(reply: FastifyReply): FastifyReply {
  return sendErrorPage(reply, 404, 'Not found', 'There is nothing here.');
}
