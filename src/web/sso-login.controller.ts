import { Controller, Get, Param, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from 'src/common/decorators/public.decorator';
import { sendErrorPage } from 'src/common/html/page';
import { SsoLoginService, SsoRefusal } from 'src/sso/sso-login.service';
import { SsoProvidersService } from 'src/sso/sso-providers.service';
import { safeReturnTo } from 'src/web/form';
import { sendSignedOut } from 'src/web/signed-out';
import { WebExceptionFilter } from 'src/common/html/web-exception.filter';

/**
 * Sign-in through an external OpenID provider (issue 9 §4): `GET /login/sso/<name>` starts it (the
 * allow-listed parameters of this URL or of the pending authorization request go along),
 * `GET /login/sso/<name>/callback` finishes it and continues the pending authorization request, and
 * `GET /login/sso/<name>/logged-out` is where the provider's sign-out comes back to.
 */
@Controller('login/sso')
@Public()
@UseFilters(WebExceptionFilter)
export class SsoLoginController {
  constructor(
    private readonly providers: SsoProvidersService,
    private readonly sso: SsoLoginService,
  ) {}

  @Get(':name')
  async start(
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('name') name: string,
    @Query() query: Record<string, unknown>,
  ): Promise<FastifyReply> {
    const provider = await this.providers.enabledByName(name);
    if (!provider) return notFound(reply);
    const returnTo = safeReturnTo(query.return_to);
    if (returnTo === null) {
      return sendErrorPage(
        reply,
        400,
        'Something is wrong with this request',
        'This sign-in link is not valid. Go back to the application and start again.',
      );
    }
    const pendingRequest = returnTo
      ? new URLSearchParams(returnTo.slice(returnTo.indexOf('?') + 1))
      : undefined;
    const given = (param: string): string | undefined => {
      const v = query[param];
      if (typeof v === 'string') return v;
      return pendingRequest?.get(param) ?? undefined;
    };
    try {
      const url = await this.sso.start(reply, provider, returnTo, given);
      return reply.header('cache-control', 'no-store').redirect(url, 303);
    } catch (err) {
      return this.refused(request, reply, provider.name, err);
    }
  }

  @Get(':name/callback')
  async callback(
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('name') name: string,
  ): Promise<FastifyReply> {
    const provider = await this.providers.enabledByName(name);
    try {
      const returnTo = await this.sso.callback(request, reply, provider);
      return reply.header('cache-control', 'no-store').redirect(returnTo ?? '/login', 303);
    } catch (err) {
      return this.refused(request, reply, provider?.name ?? 'unknown', err);
    }
  }

  @Get(':name/logged-out')
  async loggedOut(
    @Res() reply: FastifyReply,
    @Query('state') state: unknown,
  ): Promise<FastifyReply> {
    return sendSignedOut(reply, await this.sso.loggedOut(state));
  }

  private refused(
    request: FastifyRequest,
    reply: FastifyReply,
    provider: string,
    err: unknown,
  ): FastifyReply {
    if (!(err instanceof SsoRefusal)) throw err;
    this.sso.refused(request, provider, err.reason);
    return sendErrorPage(reply, err.status, err.title, err.detail);
  }
}

function notFound(reply: FastifyReply): FastifyReply {
  return sendErrorPage(reply, 404, 'Not found', 'There is no such sign-in provider.');
}
