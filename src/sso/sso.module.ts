import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IssuersModule } from 'src/issuers/issuers.module';
import { SsoProviderEntity } from 'src/sso/sso-provider.entity';
import { SsoProvidersService } from 'src/sso/sso-providers.service';
import { SsoResolver } from 'src/sso/sso.resolver';

/** Sign-in through external OpenID providers (issue 9 §4). */
@Module({
  exports: [SsoProvidersService],
  imports: [IssuersModule, TypeOrmModule.forFeature([SsoProviderEntity])],
  providers: [SsoProvidersService, SsoResolver],
})
export class SsoModule {}
