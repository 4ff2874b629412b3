import type { AuditRequest } from 'src/audit/audit-context';
import { AuditService } from 'src/audit/audit.service';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { dbCall, uniqueViolation } from 'src/common/errors/db-errors';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig, SsoClaimMappingConfig, SsoProviderConfig } from 'src/config/config.types';
import {
  DEFAULT_SSO_CLAIMS,
  DEFAULT_SSO_SCOPES,
  SSO_NAME,
  ssoProblems,
} from 'src/config/sso-rules';
import { IssuersService } from 'src/issuers/issuers.service';
import { SecretsService } from 'src/secrets/secrets.service';
import { SsoErrors } from 'src/sso/sso.errors';
import { SsoProviderEntity } from 'src/sso/sso-provider.entity';

/** An SSO provider as the rest of Bridgekeeper sees it (the secret decrypted, for the token request). */
export interface SsoProvider extends SsoProviderConfig {
  id: string;
  readOnly: boolean;
  createdAt: Date | null;
  updatedAt: Date | null;
}

/** What an admin types to create a provider; absent values take the configuration defaults. */
export interface SsoProviderDraft {
  name: string;
  displayName?: string;
  authority: string;
  clientId: string;
  clientSecret?: string;
  scopes?: string[];
  claims?: Partial<SsoClaimMappingConfig>;
  forwardParams?: string[];
  enabled?: boolean;
}

/** A change; `clientSecret`: undefined keeps it, null removes it, a string replaces it. */
export type SsoProviderPatch = Partial<Omit<SsoProviderDraft, 'clientSecret'>> & {
  clientSecret?: string | null;
};

const CONFIG_ID_PREFIX = 'config:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * SSO providers (issue 9 §4): the one from configuration (`bridgekeeper.auth.ui.oidc.*`, read-only) and
 * those admins add at runtime (PostgreSQL, read on every use, so every node sees a change at once). The
 * client secret is write-only: stored encrypted with the secrets key, bound to the provider's row.
 */
@Injectable()
export class SsoProvidersService {
  private readonly fromConfig?: SsoProvider;

  constructor(
    @InjectRepository(SsoProviderEntity) private readonly repo: Repository<SsoProviderEntity>,
    private readonly issuers: IssuersService,
    private readonly secrets: SecretsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {
    const c = config.auth.sso;
    if (c) {
      this.fromConfig = {
        ...c,
        id: `${CONFIG_ID_PREFIX}${c.name}`,
        readOnly: true,
        createdAt: null,
        updatedAt: null,
      };
    }
  }

  /** Every provider: the configuration one first, then runtime ones by name. */
  async list(): Promise<SsoProvider[]> {
    const rows = await dbCall(() => this.repo.find({ order: { name: 'ASC' } }));
    return [...(this.fromConfig ? [this.fromConfig] : []), ...rows.map((r) => this.toProvider(r))];
  }

  async enabled(): Promise<SsoProvider[]> {
    return (await this.list()).filter((p) => p.enabled);
  }

  /** An enabled provider by its URL name, or undefined. */
  async enabledByName(name: string): Promise<SsoProvider | undefined> {
    if (!SSO_NAME.test(name)) return undefined;
    if (this.fromConfig?.name === name)
      return this.fromConfig.enabled ? this.fromConfig : undefined;
    const row = await dbCall(() => this.repo.findOneBy({ name }));
    return row && row.enabled ? this.toProvider(row) : undefined;
  }

  /** Any provider by id (enabled or not), or undefined. */
  async byId(id: string): Promise<SsoProvider | undefined> {
    if (this.fromConfig?.id === id) return this.fromConfig;
    if (!UUID.test(id)) return undefined;
    const row = await dbCall(() => this.repo.findOneBy({ id }));
    return row ? this.toProvider(row) : undefined;
  }

  callbackUrl(name: string): string {
    return `${this.config.publicUrl}/login/sso/${name}/callback`;
  }

  logoutRedirectUrl(name: string): string {
    return `${this.config.publicUrl}/login/sso/${name}/logged-out`;
  }

  async create(draft: SsoProviderDraft, from?: AuditRequest): Promise<SsoProvider> {
    const candidate: SsoProviderConfig = {
      name: draft.name,
      displayName: draft.displayName ?? draft.name,
      authority: draft.authority,
      clientId: draft.clientId,
      ...(draft.clientSecret !== undefined ? { clientSecret: draft.clientSecret } : {}),
      scopes: draft.scopes ?? DEFAULT_SSO_SCOPES,
      claims: { ...DEFAULT_SSO_CLAIMS, ...draft.claims },
      forwardParams: draft.forwardParams ?? ['login_hint'],
      enabled: draft.enabled ?? true,
    };
    this.check(candidate);
    const row = await this.saveUnique(
      (repo) => repo.save(repo.create(this.toColumns(candidate))),
      candidate.name,
      'sso_provider.create',
      from,
      async (repo, saved) => {
        if (candidate.clientSecret === undefined) return;
        saved.clientSecretEnc = this.encryptSecret(saved.id, candidate.clientSecret);
        await repo.update({ id: saved.id }, { clientSecretEnc: saved.clientSecretEnc });
      },
    );
    return this.toProvider(row);
  }

  async update(id: string, patch: SsoProviderPatch, from?: AuditRequest): Promise<SsoProvider> {
    const current = await this.byId(id);
    if (!current) throw SsoErrors.notFound();
    if (current.readOnly) throw SsoErrors.readOnly();
    const { clientSecret, claims, ...rest } = patch;
    const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    const next: SsoProviderConfig = {
      ...current,
      ...defined,
      claims: { ...current.claims, ...(claims ?? {}) },
    };
    if (clientSecret === null) delete next.clientSecret;
    else if (clientSecret !== undefined) next.clientSecret = clientSecret;
    this.check(next, id);
    const row = await this.saveUnique(
      async (repo) => {
        await repo.update(
          { id },
          {
            ...this.toColumns(next),
            clientSecretEnc:
              next.clientSecret === undefined ? null : this.encryptSecret(id, next.clientSecret),
          },
        );
        return repo.findOneByOrFail({ id });
      },
      next.name,
      'sso_provider.update',
      from,
    );
    return this.toProvider(row);
  }

  async delete(id: string, from?: AuditRequest): Promise<boolean> {
    const current = await this.byId(id);
    if (!current) throw SsoErrors.notFound();
    if (current.readOnly) throw SsoErrors.readOnly();
    await dbCall(() =>
      this.repo.manager.transaction(async (m) => {
        await m.getRepository(SsoProviderEntity).delete({ id });
        await this.audit.record(
          m,
          {
            action: 'sso_provider.delete',
            targetType: 'sso_provider',
            targetId: id,
            details: { name: current.name },
          },
          from,
        );
      }),
    );
    return true;
  }

  private check(p: SsoProviderConfig, id?: string): void {
    const problems = ssoProblems(p, this.issuers.all()).map((x) => `${x.field}: ${x.message}`);
    if (problems.length > 0) throw SsoErrors.invalid(problems);
    if (this.fromConfig?.name === p.name && this.fromConfig.id !== id)
      throw SsoErrors.nameTaken(p.name);
  }

  /** One admin write of a provider and its audit event, in one transaction; a taken name is a 409. */
  private async saveUnique(
    write: (repo: Repository<SsoProviderEntity>) => Promise<SsoProviderEntity>,
    name: string,
    action: string,
    from: AuditRequest | undefined,
    then?: (repo: Repository<SsoProviderEntity>, saved: SsoProviderEntity) => Promise<void>,
  ): Promise<SsoProviderEntity> {
    try {
      return await dbCall(() =>
        this.repo.manager.transaction(async (m) => {
          const repo = m.getRepository(SsoProviderEntity);
          const saved = await write(repo);
          if (then) await then(repo, saved);
          await this.audit.record(
            m,
            { action, targetType: 'sso_provider', targetId: saved.id, details: { name } },
            from,
          );
          return saved;
        }),
      );
    } catch (err) {
      if (uniqueViolation(err) === 'uq_sso_providers_name') throw SsoErrors.nameTaken(name);
      throw err;
    }
  }

  private toColumns(p: SsoProviderConfig): Partial<SsoProviderEntity> {
    return {
      name: p.name,
      displayName: p.displayName,
      authority: p.authority,
      clientId: p.clientId,
      scopes: p.scopes,
      claimEmail: p.claims.email,
      claimFirstName: p.claims.firstName,
      claimLastName: p.claims.lastName,
      customClaims: p.claims.custom,
      forwardParams: p.forwardParams,
      enabled: p.enabled,
    };
  }

  private encryptSecret(id: string, secret: string): string {
    return this.secrets.encrypt(secret, `sso_providers:${id}:client_secret`);
  }

  private toProvider(row: SsoProviderEntity): SsoProvider {
    return {
      id: row.id,
      name: row.name,
      displayName: row.displayName,
      authority: row.authority,
      clientId: row.clientId,
      ...(row.clientSecretEnc !== null
        ? {
            clientSecret: this.secrets.decrypt(
              row.clientSecretEnc,
              `sso_providers:${row.id}:client_secret`,
            ),
          }
        : {}),
      scopes: row.scopes,
      claims: {
        email: row.claimEmail,
        firstName: row.claimFirstName,
        lastName: row.claimLastName,
        custom: row.customClaims,
      },
      forwardParams: row.forwardParams,
      enabled: row.enabled,
      readOnly: false,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }
}
