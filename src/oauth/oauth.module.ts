import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ActorsModule } from 'src/actors/actors.module';
import { ClientsModule } from 'src/clients/clients.module';
import { IdentityModule } from 'src/identity/identity.module';
import { MembershipsModule } from 'src/memberships/memberships.module';
import { BrowserSessionsModule } from 'src/browser-sessions/browser-sessions.module';
import { ActorSessionsService } from 'src/oauth/actor-sessions.service';
import { AccessTokensService } from 'src/oauth/access-tokens.service';
import { AuthorizeController } from 'src/oauth/authorize.controller';
import { AuthorizeService } from 'src/oauth/authorize.service';
import { ClientAssertionService } from 'src/oauth/client-assertion.service';
import { ClientAuthService } from 'src/oauth/client-auth.service';
import { ClientRegistrationController } from 'src/oauth/client-registration.controller';
import { ClientRegistrationService } from 'src/oauth/client-registration.service';
import { ConsentController } from 'src/oauth/consent.controller';
import { DeviceAuthorizationController } from 'src/oauth/device-authorization.controller';
import { DeviceCodesService } from 'src/oauth/device-codes.service';
import { DevicePageController } from 'src/oauth/device-page.controller';
import { DiscoveryController } from 'src/oauth/discovery.controller';
import { DeviceCodeEntity } from 'src/oauth/grants/device-code.entity';
import { EndSessionController } from 'src/oauth/end-session.controller';
import { EndSessionService } from 'src/oauth/end-session.service';
import { GrantEntity } from 'src/oauth/grants/grant.entity';
import { GrantsService } from 'src/oauth/grants/grants.service';
import { IdTokensService } from 'src/oauth/id-tokens.service';
import { AuthorizationCodeEntity } from 'src/oauth/grants/authorization-code.entity';
import { RefreshTokenEntity } from 'src/oauth/grants/refresh-token.entity';
import { SessionController } from 'src/oauth/session.controller';
import { SessionService } from 'src/oauth/session.service';
import { SessionsResolver } from 'src/oauth/sessions.resolver';
import { TokenController } from 'src/oauth/token.controller';
import { TokenExchangeService } from 'src/oauth/token-exchange.service';
import { TokenService } from 'src/oauth/token.service';
import { UserinfoController } from 'src/oauth/userinfo.controller';
import { OutboundModule } from 'src/outbound/outbound.module';
import { RevocationModule } from 'src/revocation/revocation.module';
import { SigningKeysModule } from 'src/signing-keys/signing-keys.module';
import { SsoModule } from 'src/sso/sso.module';
import { TokenValidationModule } from 'src/token-validation/token-validation.module';

/** Bridgekeeper as an OAuth 2 / OpenID provider: token, revocation, introspection, logout, userinfo. */
@Module({
  controllers: [
    AuthorizeController,
    ClientRegistrationController,
    ConsentController,
    DeviceAuthorizationController,
    DevicePageController,
    DiscoveryController,
    EndSessionController,
    SessionController,
    TokenController,
    UserinfoController,
  ],
  exports: [ActorSessionsService, GrantsService],
  imports: [
    ActorsModule,
    BrowserSessionsModule,
    ClientsModule,
    IdentityModule,
    MembershipsModule,
    OutboundModule,
    RevocationModule,
    SigningKeysModule,
    SsoModule,
    TokenValidationModule,
    TypeOrmModule.forFeature([
      GrantEntity,
      RefreshTokenEntity,
      AuthorizationCodeEntity,
      DeviceCodeEntity,
    ]),
  ],
  providers: [
    AccessTokensService,
    ActorSessionsService,
    AuthorizeService,
    ClientAssertionService,
    ClientAuthService,
    ClientRegistrationService,
    DeviceCodesService,
    EndSessionService,
    GrantsService,
    IdTokensService,
    SessionService,
    SessionsResolver,
    TokenExchangeService,
    TokenService,
  ],
})
export class OauthModule {}
