import { Body, Controller, Headers, HttpCode, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from 'src/common/decorators/public.decorator';
import { AcceptsBody } from 'src/common/validation/accepts-body';
import { ClientAuthService } from 'src/oauth/client-auth.service';
import {
  type DeviceAuthorizationResponse,
  DeviceCodesService,
} from 'src/oauth/device-codes.service';
import { OauthExceptionFilter } from 'src/oauth/oauth-exception.filter';
import { OauthForm } from 'src/oauth/oauth-form';

/**
 * `POST /oauth2/device_authorization` (RFC 8628 §3.1): a client (public ones too) asks for a device
 * code and a user code; the person enters the user code at /device. Never cached.
 */
@Controller('oauth2/device_authorization')
@UseFilters(OauthExceptionFilter)
export class DeviceAuthorizationController {
  constructor(
    private readonly clientAuth: ClientAuthService,
    private readonly devices: DeviceCodesService,
  ) {}

  @Post()
  @Public()
  @AcceptsBody('form')
  @HttpCode(200)
  async start(
    @Req() req: FastifyRequest,
    @Headers('content-type') contentType: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DeviceAuthorizationResponse> {
    void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const form = OauthForm.parse(contentType, body);
    // Rate limited and audited as the token endpoint (the device polls there next).
    const client = await this.clientAuth.authenticate(req, form, 'token', { allowPublic: true });
    return this.devices.start(client, form);
  }
}
