import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IssuersResolver } from 'src/issuers/issuers.resolver';
import { IssuersService } from 'src/issuers/issuers.service';
import { TrustedIssuerEntity } from 'src/issuers/trusted-issuer.entity';

@Module({
  exports: [IssuersService],
  imports: [TypeOrmModule.forFeature([TrustedIssuerEntity])],
  providers: [IssuersResolver, IssuersService],
})
export class IssuersModule {}
