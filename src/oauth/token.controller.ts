import { Body, Controller, Headers, HttpCode, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from 'src/common/decorators/public.decorator';
import { ClientAuthService } from 'src/oauth/client-auth.service';
import { OauthExceptionFilter } from 'src/oauth/oauth-exception.filter';
import { OauthForm } from 'src/oauth/oauth-form';
import { TokenService, type TokenResponse } from 'src/oauth/token.service';

/** `POST /oauth2/token` (RFC 6749 §3.2): form-encoded, client-authenticated, never cached. */
@Controller('oauth2/token')
@UseFilters(OauthExceptionFilter)
export class TokenController {
  constructor(
    private readonly clientAuth: ClientAuthService,
    private readonly tokens: TokenService,
  ) {}

  @Post()
  @Public()
  @HttpCode(200)
  async token(
    @Req() req: FastifyRequest,
    @Headers('content-type') contentType: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const form = OauthForm.parse(contentType, body);
    const client = await this.clientAuth.authenticate(req.headers, form);
    return this.tokens.grant(client, form);
  }
}
