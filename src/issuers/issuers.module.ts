import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IssuersResolver } from 'src/issuers/issuers.resolver';
import { IssuersService } from 'src/issuers/issuers.service';
import { KeySetStatusBoard } from 'src/issuers/key-set-status';
import { TrustedIssuerEntity } from 'src/issuers/trusted-issuer.entity';
import { OutboundModule } from 'src/outbound/outbound.module';

@Module({
  exports: [IssuersService, KeySetStatusBoard],
  imports: [OutboundModule, TypeOrmModule.forFeature([TrustedIssuerEntity])],
  providers: [IssuersResolver, IssuersService, KeySetStatusBoard],
})
export class IssuersModule {}
