import { Body, Controller, Inject, NotFoundException, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from 'src/common/decorators/public.decorator';
import { AcceptsBody } from 'src/common/validation/accepts-body';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import {
  ClientRegistrationService,
  RegistrationError,
} from 'src/oauth/client-registration.service';

/**
 * `POST /oauth2/register` (RFC 7591 §3): open registration of public clients, JSON in and out, 201 with
 * the client's metadata, `400 { error, error_description }` for bad metadata, 429 over the rate limit.
 * Absent (404) when `bridgekeeper.oauth.registration.enabled` is false.
 */
@Controller('oauth2/register')
export class ClientRegistrationController {
  constructor(
    private readonly registrations: ClientRegistrationService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @Public()
  @AcceptsBody('json')
  async register(
    @Req() req: FastifyRequest,
    @Body() body: unknown,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (!this.config.oauth.registration.enabled) throw new NotFoundException();
    void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    if (!(await this.registrations.allow(req.ip))) {
      await reply.code(429).header('retry-after', '3600').send({
        error: 'too_many_requests',
        error_description: 'Too many registrations from this address; try again later',
      });
      return;
    }
    try {
      await reply.code(201).send(await this.registrations.register(body));
    } catch (err) {
      if (!(err instanceof RegistrationError)) throw err;
      await reply.code(400).send({ error: err.error, error_description: err.description });
    }
  }
}
