import { DataSource, type DataSourceOptions } from 'typeorm';
import { ActorEntity } from 'src/actors/actor.entity';
import type { AppConfig } from 'src/config/config.types';
import { MembershipEntity } from 'src/memberships/membership.entity';
import { ProfileEntity } from 'src/memberships/profile.entity';
import { ProjectEntity } from 'src/projects/project.entity';
import { SigningKeyEntity } from 'src/signing-keys/signing-key.entity';
import { TrustedIssuerEntity } from 'src/issuers/trusted-issuer.entity';
import { ClientEntity } from 'src/clients/client.entity';
import { GrantEntity } from 'src/oauth/grants/grant.entity';
import { RefreshTokenEntity } from 'src/oauth/grants/refresh-token.entity';
import { AuthorizationCodeEntity } from 'src/oauth/grants/authorization-code.entity';
import { RevocationEntity } from 'src/revocation/revocation.entity';
import { LocalAccountEntity } from 'src/accounts/local-account.entity';
import { OneTimeLinkEntity } from 'src/accounts/one-time-link.entity';
import { BrowserSessionEntity } from 'src/browser-sessions/browser-session.entity';
import { SsoProviderEntity } from 'src/sso/sso-provider.entity';
import { SsoPendingEntity } from 'src/sso/sso-pending.entity';
import { SsoSessionEntity } from 'src/sso/sso-session.entity';
import { ActorAttributesEntity } from 'src/sso/actor-attributes.entity';
import { ConsoleActivityEntity } from 'src/console/console-activity.entity';
import { AuditEventEntity } from 'src/audit/audit-event.entity';
import { CreateActors1764000000000 } from 'src/database/migrations/1764000000000-CreateActors';
import { CreateProjectsAndMemberships1795541668147 } from 'src/database/migrations/1795541668147-CreateProjectsAndMemberships';
import { CreateSigningKeys1796153210656 } from 'src/database/migrations/1796153210656-CreateSigningKeys';
import { CreateTrustedIssuers1796153345286 } from 'src/database/migrations/1796153345286-CreateTrustedIssuers';
import { CreateOauthClientsGrantsRevocations1796153456289 } from 'src/database/migrations/1796153456289-CreateOauthClientsGrantsRevocations';
import { AddClientPrivateKeyJwt1796155761441 } from 'src/database/migrations/1796155761441-AddClientPrivateKeyJwt';
import { CreateLocalAccountsAndBrowserSessions1796170000000 } from 'src/database/migrations/1796170000000-CreateLocalAccountsAndBrowserSessions';
import { AddAuthorizationCodeFlow1796175000000 } from 'src/database/migrations/1796175000000-AddAuthorizationCodeFlow';
import { CreateSsoProviders1796190000000 } from 'src/database/migrations/1796190000000-CreateSsoProviders';
import { AddConsoleActivityAndSessionAgents1796183100000 } from 'src/database/migrations/1796183100000-AddConsoleActivityAndSessionAgents';
import { CreateAuditEvents1796200000000 } from 'src/database/migrations/1796200000000-CreateAuditEvents';
import { AddResourceIndicators1796210000000 } from 'src/database/migrations/1796210000000-AddResourceIndicators';
import { CreateDeviceCodes1796211000000 } from 'src/database/migrations/1796211000000-CreateDeviceCodes';
import { AddClientRegistration1796212000000 } from 'src/database/migrations/1796212000000-AddClientRegistration';
import { DeviceCodeEntity } from 'src/oauth/grants/device-code.entity';

/** Every entity and migration, listed explicitly so the same list works from TypeScript and from dist/. */
export const ENTITIES = [
  ActorEntity,
  ProjectEntity,
  ProfileEntity,
  MembershipEntity,
  SigningKeyEntity,
  TrustedIssuerEntity,
  ClientEntity,
  GrantEntity,
  RefreshTokenEntity,
  AuthorizationCodeEntity,
  DeviceCodeEntity,
  RevocationEntity,
  LocalAccountEntity,
  OneTimeLinkEntity,
  BrowserSessionEntity,
  SsoProviderEntity,
  SsoPendingEntity,
  SsoSessionEntity,
  ActorAttributesEntity,
  ConsoleActivityEntity,
  AuditEventEntity,
];
export const MIGRATIONS = [
  CreateActors1764000000000,
  CreateProjectsAndMemberships1795541668147,
  CreateSigningKeys1796153210656,
  CreateTrustedIssuers1796153345286,
  CreateOauthClientsGrantsRevocations1796153456289,
  AddClientPrivateKeyJwt1796155761441,
  CreateLocalAccountsAndBrowserSessions1796170000000,
  AddAuthorizationCodeFlow1796175000000,
  CreateSsoProviders1796190000000,
  AddConsoleActivityAndSessionAgents1796183100000,
  CreateAuditEvents1796200000000,
  AddResourceIndicators1796210000000,
  CreateDeviceCodes1796211000000,
  AddClientRegistration1796212000000,
];

/** The one DataSource definition, shared by the Nest app and the migration scripts. */
export function dataSourceOptions(config: AppConfig, url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    // gen_random_uuid() is built into PostgreSQL 13+; uuid-ossp would need an extension.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'bridgekeeper_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: {
      max: config.database.poolSize,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30000,
      statement_timeout: config.database.statementTimeoutMs,
      query_timeout: config.database.statementTimeoutMs + 1000,
      application_name: 'bridgekeeper',
    },
  };
}

export function createDataSource(config: AppConfig, url: string): DataSource {
  return new DataSource(dataSourceOptions(config, url));
}
