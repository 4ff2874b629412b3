import { Body, Controller, Headers, HttpCode, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from 'src/common/decorators/public.decorator';
import { AcceptsBody } from 'src/common/validation/accepts-body';
import { ClientAuthService } from 'src/oauth/client-auth.service';
import { OauthExceptionFilter } from 'src/oauth/oauth-exception.filter';
import { OauthForm } from 'src/oauth/oauth-form';
import { OauthError } from 'src/oauth/oauth.errors';
import {
  GRANT_AUTHORIZATION_CODE,
  GRANT_CLIENT_CREDENTIALS,
  GRANT_DEVICE_CODE,
  GRANT_REFRESH_TOKEN,
  GRANT_TOKEN_EXCHANGE,
  TokenService,
  type TokenResponse,
} from 'src/oauth/token.service';
import { MetricsService } from 'src/metrics/metrics.service';

const KNOWN_GRANTS = new Set([
  GRANT_AUTHORIZATION_CODE,
  GRANT_CLIENT_CREDENTIALS,
  GRANT_DEVICE_CODE,
  GRANT_REFRESH_TOKEN,
  GRANT_TOKEN_EXCHANGE,
]);

/** A fixed metrics label: never what a caller sent, unless it is a grant we know. */
function grantTypeLabel(grantType: string | undefined): string {
  if (grantType === undefined) return 'none';
  return KNOWN_GRANTS.has(grantType) ? grantType : 'other';
}

/** `POST /oauth2/token` (RFC 6749 §3.2): form-encoded, client-authenticated, never cached. */
@Controller('oauth2/token')
@UseFilters(OauthExceptionFilter)
export class TokenController {
  constructor(
    private readonly clientAuth: ClientAuthService,
    private readonly tokens: TokenService,
    private readonly metrics: MetricsService,
  ) {}

  @Post()
  @Public()
  @AcceptsBody('form')
  @HttpCode(200)
  async token(
    @Req() req: FastifyRequest,
    @Headers('content-type') contentType: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    let grantType = 'none';
    try {
      const form = OauthForm.parse(contentType, body);
      grantType = grantTypeLabel(form.get('grant_type'));
      const client = await this.clientAuth.authenticate(req, form, 'token', {
        allowPublic: true,
      });
      const response = await this.tokens.grant(client, form, req);
      this.metrics.oauthTokenRequests.inc({ grant_type: grantType, outcome: 'issued' });
      return response;
    } catch (err) {
      const outcome = err instanceof OauthError ? err.error : 'error';
      this.metrics.oauthTokenRequests.inc({ grant_type: grantType, outcome });
      throw err;
    }
  }
}
