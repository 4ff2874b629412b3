import { Controller, Get, Inject, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from 'src/common/decorators/public.decorator';
import { Csrf } from 'src/common/html/csrf';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { sendAuthorizeOutcome } from 'src/oauth/consent.controller';
import { WebExceptionFilter } from 'src/common/html/web-exception.filter';
import { AuthorizeService } from 'src/oauth/authorize.service';

/**
 * `GET /oauth2/authorize` (OIDC Core §3.1.2): a browser endpoint. It answers with a redirect (to the
 * client, or to the login page) or an error page, never JSON; nothing it answers is cached, and the
 * code in a redirect is not leaked through a Referer.
 */
// A browser endpoint: errors (a database outage too) are pages, never JSON.
@UseFilters(WebExceptionFilter)
@Controller('oauth2/authorize')
export class AuthorizeController {
  private readonly csrf: Csrf;

  constructor(
    private readonly authorizations: AuthorizeService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.csrf = new Csrf(config.publicUrl);
  }

  @Get()
  @Public()
  async authorize(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await sendAuthorizeOutcome(req, reply, await this.authorizations.authorize(req), this.csrf);
  }
}
