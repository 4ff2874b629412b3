import { Body, Controller, Headers, HttpCode, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentCaller } from 'src/common/auth/caller';
import { Public } from 'src/common/decorators/public.decorator';
import { AcceptsBody } from 'src/common/validation/accepts-body';
import type { Principal } from 'src/identity/principal';
import { ClientAuthService } from 'src/oauth/client-auth.service';
import { OauthExceptionFilter } from 'src/oauth/oauth-exception.filter';
import { OauthForm } from 'src/oauth/oauth-form';
import { OauthErrors } from 'src/oauth/oauth.errors';
import { type IntrospectionResponse, SessionService } from 'src/oauth/session.service';

const TOKEN_TYPE_HINTS = ['access_token', 'refresh_token'];

/** Revocation (RFC 7009), introspection (RFC 7662) and logout. */
@Controller('oauth2')
@UseFilters(OauthExceptionFilter)
export class SessionController {
  constructor(
    private readonly clientAuth: ClientAuthService,
    private readonly sessions: SessionService,
  ) {}

  @Post('revoke')
  @Public()
  @AcceptsBody('form')
  @HttpCode(200)
  async revoke(
    @Req() req: FastifyRequest,
    @Headers('content-type') contentType: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, never>> {
    void reply.header('cache-control', 'no-store');
    const form = OauthForm.parse(contentType, body);
    const client = await this.clientAuth.authenticate(req, form, 'revocation', {
      allowPublic: true,
    });
    const token = form.require('token');
    checkHint(form.get('token_type_hint'));
    await this.sessions.revoke(client, token);
    return {};
  }

  @Post('introspect')
  @Public()
  @AcceptsBody('form')
  @HttpCode(200)
  async introspect(
    @Req() req: FastifyRequest,
    @Headers('content-type') contentType: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IntrospectionResponse> {
    void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const form = OauthForm.parse(contentType, body);
    const client = await this.clientAuth.authenticate(req, form, 'introspection');
    const token = form.require('token');
    checkHint(form.get('token_type_hint'));
    return this.sessions.introspect(client, token);
  }

  /** Ends the session of the bearer token itself (Medplum's `/oauth2/logout`). */
  @Post('logout')
  @AcceptsBody('json', 'empty')
  @HttpCode(200)
  async logout(
    @CurrentCaller() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, never>> {
    void reply.header('cache-control', 'no-store');
    await this.sessions.logout(principal);
    return {};
  }
}

/** An unknown hint is only a hint (RFC 7009 §2.1: the server may ignore it) but a malformed one is not. */
function checkHint(hint: string | undefined): void {
  if (hint !== undefined && !TOKEN_TYPE_HINTS.includes(hint) && !/^[a-z_]{1,40}$/.test(hint)) {
    throw OauthErrors.invalidRequest('token_type_hint is not valid');
  }
}
