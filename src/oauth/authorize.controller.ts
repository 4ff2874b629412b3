import { Controller, Get, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from 'src/common/decorators/public.decorator';
import { sendErrorPage } from 'src/common/html/page';
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
  constructor(private readonly authorizations: AuthorizeService) {}

  @Get()
  @Public()
  async authorize(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const outcome = await this.authorizations.authorize(req);
    if (outcome.kind === 'page') {
      await sendErrorPage(reply, outcome.status, outcome.title, outcome.message);
      return;
    }
    await reply
      .header('cache-control', 'no-store')
      .header('pragma', 'no-cache')
      .header('referrer-policy', 'no-referrer')
      .redirect(outcome.location, outcome.kind === 'login' ? 303 : 302);
  }
}
