import { Controller, Get, Header } from '@nestjs/common';
import type { JWK } from 'jose';
import { Public } from 'src/common/decorators/public.decorator';
import { JWKS_CACHE_CONTROL } from 'src/signing-keys/signing-keys.constants';
import { SigningKeysService } from 'src/signing-keys/signing-keys.service';

/** Bridgekeeper's public signing keys, for anyone verifying its tokens (RFC 8414 `jwks_uri`). */
@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: SigningKeysService) {}

  @Public()
  @Get('jwks.json')
  @Header('Cache-Control', JWKS_CACHE_CONTROL)
  @Header('Content-Type', 'application/json')
  jwks(): { keys: JWK[] } {
    return this.keys.publicJwks();
  }
}
