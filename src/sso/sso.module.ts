import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ActorsModule } from 'src/actors/actors.module';
import { BrowserSessionsModule } from 'src/browser-sessions/browser-sessions.module';
import { IssuersModule } from 'src/issuers/issuers.module';
import { OutboundModule } from 'src/outbound/outbound.module';
import { ActorAttributesEntity } from 'src/sso/actor-attributes.entity';
import { ActorAttributesResolver } from 'src/sso/actor-attributes.resolver';
import { SsoLoginService } from 'src/sso/sso-login.service';
import { SsoPendingEntity } from 'src/sso/sso-pending.entity';
import { SsoProviderEntity } from 'src/sso/sso-provider.entity';
import { SsoProvidersService } from 'src/sso/sso-providers.service';
import { SsoSessionEntity } from 'src/sso/sso-session.entity';
import { SsoResolver } from 'src/sso/sso.resolver';
import { TokenValidationModule } from 'src/token-validation/token-validation.module';

/** Sign-in through external OpenID providers (issue 9 §4). */
@Module({
  exports: [SsoLoginService, SsoProvidersService],
  imports: [
    ActorsModule,
    BrowserSessionsModule,
    IssuersModule,
    OutboundModule,
    TokenValidationModule,
    TypeOrmModule.forFeature([
      ActorAttributesEntity,
      SsoPendingEntity,
      SsoProviderEntity,
      SsoSessionEntity,
    ]),
  ],
  providers: [ActorAttributesResolver, SsoLoginService, SsoProvidersService, SsoResolver],
})
export class SsoModule {}
