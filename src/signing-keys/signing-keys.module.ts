import { Module } from '@nestjs/common';
import { JwksController } from 'src/signing-keys/jwks.controller';
import { SigningKeysResolver } from 'src/signing-keys/signing-keys.resolver';
import { SigningKeysService } from 'src/signing-keys/signing-keys.service';

/** Bridgekeeper's own token signing keys: storage, rotation, signing, and the public JWKS. */
@Module({
  controllers: [JwksController],
  exports: [SigningKeysService],
  providers: [SigningKeysResolver, SigningKeysService],
})
export class SigningKeysModule {}
