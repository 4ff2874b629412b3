import { Module } from '@nestjs/common';
import { IssuersModule } from 'src/issuers/issuers.module';
import { OutboundModule } from 'src/outbound/outbound.module';
import { RevocationModule } from 'src/revocation/revocation.module';
import { SigningKeysModule } from 'src/signing-keys/signing-keys.module';
import { JwksService } from 'src/token-validation/jwks.service';
import { TokenExplainerService } from 'src/token-validation/token-explainer.service';
import { TokenValidationService } from 'src/token-validation/token-validation.service';
import { UserinfoValidatorService } from 'src/token-validation/userinfo-validator.service';

@Module({
  exports: [JwksService, TokenExplainerService, TokenValidationService],
  imports: [IssuersModule, OutboundModule, RevocationModule, SigningKeysModule],
  providers: [JwksService, TokenExplainerService, TokenValidationService, UserinfoValidatorService],
})
export class TokenValidationModule {}
