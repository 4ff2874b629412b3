import { Module } from '@nestjs/common';
import { IssuersModule } from 'src/issuers/issuers.module';
import { OutboundModule } from 'src/outbound/outbound.module';
import { JwksService } from 'src/token-validation/jwks.service';
import { TokenValidationService } from 'src/token-validation/token-validation.service';
import { UserinfoValidatorService } from 'src/token-validation/userinfo-validator.service';

@Module({
  exports: [TokenValidationService],
  imports: [IssuersModule, OutboundModule],
  providers: [JwksService, TokenValidationService, UserinfoValidatorService],
})
export class TokenValidationModule {}
