import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import type { Logger } from 'pino';
import { ActorsModule } from 'src/actors/actors.module';
import { AuditModule } from 'src/audit/audit.module';
import { CacheModule } from 'src/cache/cache.module';
import { HttpExceptionFilter } from 'src/common/filters/http-exception.filter';
import { LoggingModule } from 'src/common/logging/logging.module';
import { ConfigModule } from 'src/config/config.module';
import { ConsoleModule } from 'src/console/console.module';
import type { AppConfig } from 'src/config/config.types';
import { DatabaseModule } from 'src/database/database.module';
import { GqlConfigService } from 'src/graphql/gql-config.service';
import { HealthModule } from 'src/health/health.module';
import { AuthGuard } from 'src/identity/auth.guard';
import { IdentityModule } from 'src/identity/identity.module';
import { InvitesModule } from 'src/invites/invites.module';
import { ProjectAccessModule } from 'src/memberships/project-access.module';
import { McpModule } from 'src/mcp/mcp.module';
import { MetricsModule } from 'src/metrics/metrics.module';
import { OauthModule } from 'src/oauth/oauth.module';
import { RateLimitsModule } from 'src/rate-limits/rate-limits.module';
import { RootModule } from 'src/root/root.module';
import { WebModule } from 'src/web/web.module';
import { SecretsModule } from 'src/secrets/secrets.module';
import { SigningKeysModule } from 'src/signing-keys/signing-keys.module';
import { SsoModule } from 'src/sso/sso.module';

/** Composition only: infrastructure first, then the domain modules. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(logger),
        MetricsModule,
        DatabaseModule,
        CacheModule,
        RateLimitsModule,
        AuditModule,
        SecretsModule,
        HealthModule,
        ActorsModule,
        IdentityModule,
        InvitesModule,
        ProjectAccessModule,
        SigningKeysModule,
        OauthModule,
        McpModule,
        SsoModule,
        RootModule,
        WebModule,
        ConsoleModule,
        GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          imports: [IdentityModule],
          useClass: GqlConfigService,
        }),
      ],
      providers: [
        { provide: APP_GUARD, useExisting: AuthGuard },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
      ],
    };
  }
}
