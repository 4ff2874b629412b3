import { Controller, Get, Header, Inject } from '@nestjs/common';
import { Public } from 'src/common/decorators/public.decorator';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';

export interface RootDocument {
  service: 'bridgekeeper';
  issuer: string;
  discovery: string;
  graphql: string;
  jwks: string;
  health: { live: string; ready: string };
}

/** `GET /`: where things are, for a person or a client arriving at the bare address. */
@Controller()
export class RootController {
  private readonly document: RootDocument;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const base = config.publicUrl;
    this.document = {
      service: 'bridgekeeper',
      issuer: base,
      discovery: `${base}/.well-known/openid-configuration`,
      graphql: `${base}/graphql`,
      jwks: `${base}/.well-known/jwks.json`,
      health: { live: `${base}/health/live`, ready: `${base}/health/ready` },
    };
  }

  @Public()
  @Get()
  @Header('Cache-Control', 'public, max-age=300')
  root(): RootDocument {
    return this.document;
  }
}
