import type { AuditRequest } from 'src/audit/audit-context';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, type Repository } from 'typeorm';
import { ActorsService } from 'src/actors/actors.service';
import { AuditService } from 'src/audit/audit.service';
import { CacheKeys } from 'src/cache/cache-keys';
import { CacheService } from 'src/cache/cache.service';
import {
  type ClientGrantType,
  type ClientRegistration,
  ClientEntity,
  type TokenEndpointAuthMethod,
} from 'src/clients/client.entity';
import { type ClientJwks, parseClientJwks } from 'src/clients/client-jwks';
import { type BuiltInClient, builtInClients, isBuiltInClient } from 'src/clients/console-client';
import { type ClientSnapshot, toClientSnapshot } from 'src/clients/client-snapshot';
import { OWN_TOKENS_ISSUER_NAME } from 'src/config/issuer-rules';
import { hashSecret, newClientId, newClientSecret, secretMatches } from 'src/clients/client-secret';
import { checkedRedirectUris } from 'src/clients/redirect-uris';
import { ClientsErrors } from 'src/clients/clients.errors';
import type { CreateClientInput, UpdateClientInput } from 'src/clients/dto/create-client.input';
import { isUuid } from 'src/common/validation/uuid';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { dbCall } from 'src/common/errors/db-errors';
import { IssuersService } from 'src/issuers/issuers.service';
import { ProjectsService } from 'src/projects/projects.service';
import { RevocationService } from 'src/revocation/revocation.service';
import { decodeCursor, type KeysetCursor, keysetPage } from 'src/common/pagination/keyset';

/** How long a client may be served from the cache; every change also invalidates it at once. */
const CLIENT_TTL_MS = 60_000;

export interface ClientPage {
  items: { cursor: string; client: ClientSnapshot }[];
  hasNextPage: boolean;
  totalCount: number;
}

export interface CreatedClient {
  client: ClientSnapshot;
  /** Null for a private_key_jwt client: it has no secret. */
  secret: string | null;
}

/**
 * OAuth client applications (issue 4 §2). The secret is generated here (256 bits), returned once and
 * stored as a SHA-256 hash; each client has its own principal, an actor in a namespace of its own.
 */
@Injectable()
export class ClientsService implements OnApplicationBootstrap {
  constructor(
    @InjectRepository(ClientEntity) private readonly repo: Repository<ClientEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly actors: ActorsService,
    private readonly projects: ProjectsService,
    private readonly issuers: IssuersService,
    private readonly cache: CacheService,
    private readonly revocations: RevocationService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Every node, every start: the built-in clients (console, CLI) exist and follow the public URL. */
  async onApplicationBootstrap(): Promise<void> {
    for (const client of builtInClients(this.config.publicUrl)) await this.ensureBuiltIn(client);
  }

  /**
   * Registers (or brings up to date) a built-in public client: the admin console's (code + PKCE and
   * refresh tokens, redirect and post-logout URIs under `<public URL>/console/`) or the command line's
   * (device grant and refresh tokens). Idempotent and safe when nodes start together (`INSERT … ON
   * CONFLICT` for its principal and for the client); its status is left alone.
   */
  async ensureBuiltIn(client: BuiltInClient): Promise<ClientSnapshot> {
    await dbCall(() =>
      this.dataSource.transaction(async (manager) => {
        const principal = await this.actors.ensureServicePrincipal(
          manager,
          client.clientId,
          client.name,
        );
        await manager.query(
          `INSERT INTO oauth_clients (client_id, name, secret_hash, secret_rotated_at, actor_id,
             scopes, grant_types, token_endpoint_auth_method, redirect_uris, post_logout_redirect_uris)
           VALUES ($1, $2, $3, now(), $4, $5, $6, 'none', $7, $8)
           ON CONFLICT ON CONSTRAINT uq_oauth_clients_client_id DO UPDATE SET
             scopes = EXCLUDED.scopes, grant_types = EXCLUDED.grant_types,
             token_endpoint_auth_method = 'none', project_id = NULL, exchange_issuers = '{}',
             jwks = NULL, redirect_uris = EXCLUDED.redirect_uris,
             post_logout_redirect_uris = EXCLUDED.post_logout_redirect_uris, updated_at = now()`,
          [
            client.clientId,
            client.name,
            // A public client accepts no secret: the hash of one nobody ever sees.
            hashSecret(newClientSecret()),
            principal.id,
            [...client.scopes],
            [...client.grantTypes],
            client.redirectUris,
            client.postLogoutRedirectUris,
          ],
        );
      }),
    );
    await this.invalidate(client.clientId);
    const row = await dbCall(() => this.repo.findOneByOrFail({ clientId: client.clientId }));
    return toClientSnapshot(row);
  }

  /**
   * Registers a client. `dynamic` (RFC 7591, the oauth module checks the metadata first): a public
   * client with no roles, whose people are asked for consent, and which expires while unused. `from`:
   * the admin's request, for the audit log.
   */
  async create(
    input: CreateClientInput,
    from?: AuditRequest,
    registration: ClientRegistration = 'admin',
    /** A Client ID Metadata Document's URL; otherwise a new random `bkc_…` id. */
    givenClientId?: string,
  ): Promise<CreatedClient> {
    const name = input.name.trim();
    if (name.length === 0) throw ClientsErrors.invalid('name must not be blank');
    if (input.projectId !== undefined) await this.projects.get(input.projectId);
    const method: TokenEndpointAuthMethod = input.tokenEndpointAuthMethod ?? 'client_secret_basic';
    const policy = this.checkedPolicy(method, {
      grantTypes: input.grantTypes,
      scopes: input.scopes,
      exchangeIssuers: input.exchangeIssuers ?? [],
      redirectUris: input.redirectUris ?? [],
      postLogoutRedirectUris: input.postLogoutRedirectUris ?? [],
    });
    let jwks: ClientJwks | null = null;
    if (method === 'private_key_jwt') {
      if (input.jwks === undefined) {
        throw ClientsErrors.invalid('jwks: a PRIVATE_KEY_JWT client must register its public keys');
      }
      jwks = parseClientJwks(input.jwks);
    } else if (input.jwks !== undefined) {
      throw ClientsErrors.invalid('jwks: only PRIVATE_KEY_JWT clients have keys');
    }
    const clientId = givenClientId ?? newClientId();
    // A private_key_jwt or public client accepts no secret: it gets the hash of one nobody ever sees.
    const secret = usesSecretMethod(method) ? newClientSecret() : null;
    const entity = await dbCall(() =>
      this.dataSource.transaction(async (manager) => {
        const principal = await this.actors.createServicePrincipal(
          manager,
          clientId,
          name,
          input.roles ?? [],
        );
        const repo = manager.getRepository(ClientEntity);
        const created = await repo.save(
          repo.create({
            clientId,
            name,
            secretHash: hashSecret(secret ?? newClientSecret()),
            secretRotatedAt: new Date(),
            tokenEndpointAuthMethod: method,
            jwks,
            actorId: principal.id,
            projectId: input.projectId ?? null,
            ...policy,
            subjectResolution: input.subjectResolution ?? 'MEMBERSHIP',
            registration,
          }),
        );
        await this.audit.record(
          manager,
          {
            action: 'client.create',
            targetType: 'client',
            targetId: created.id,
            projectId: created.projectId,
            details: { clientId, name, method },
          },
          from,
        );
        return created;
      }),
    );
    // A lookup of this client id may have cached its absence (a metadata document URL).
    if (givenClientId !== undefined) await this.invalidate(clientId);
    const saved = await dbCall(() => this.repo.findOneByOrFail({ id: entity.id }));
    return { client: toClientSnapshot(saved), secret };
  }

  /**
   * Deletes dynamically registered clients created before `cutoff` that never got a grant (no person
   * ever approved them), with their principals. Returns how many.
   */
  async purgeUnusedDynamic(cutoff: Date): Promise<number> {
    const removed = await dbCall(() =>
      this.dataSource.transaction(async (m) => {
        const rows = (await m.query(
          `DELETE FROM oauth_clients c WHERE c.registration = 'dynamic' AND c.created_at < $1
             AND NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.client_id = c.client_id)
           RETURNING c.client_id, c.actor_id`,
          [cutoff],
        )) as [{ client_id: string; actor_id: string }[], number];
        const list = rows[0];
        if (list.length > 0) {
          await m.query('DELETE FROM actors WHERE id = ANY($1)', [list.map((r) => r.actor_id)]);
        }
        return list;
      }),
    );
    for (const r of removed) await this.invalidate(r.client_id);
    return removed.length;
  }

  /** One page of clients, oldest first (keyset cursor), and how many match. */
  async list(q: { first: number; after?: string; projectId?: string }): Promise<ClientPage> {
    const qb = this.repo.createQueryBuilder('c');
    if (q.projectId) qb.andWhere('c.project_id = :projectId', { projectId: q.projectId });
    const totalCount = await dbCall(() => qb.clone().getCount());
    let after: KeysetCursor | undefined;
    if (q.after) {
      after = decodeCursor(q.after);
      if (!after) throw ClientsErrors.invalid('after is not a valid cursor');
    }
    const page = await dbCall(() => keysetPage(qb, 'c', q.first, after));
    return {
      items: page.items.map(({ cursor, entity }) => ({ cursor, client: toClientSnapshot(entity) })),
      hasNextPage: page.hasNextPage,
      totalCount,
    };
  }

  async get(id: string): Promise<ClientSnapshot> {
    if (!isUuid(id)) throw ClientsErrors.notFound();
    const row = await dbCall(() => this.repo.findOneBy({ id }));
    if (!row) throw ClientsErrors.notFound();
    return toClientSnapshot(row);
  }

  /** The client with this public `client_id`, cached (shared cache with Redis). */
  async findByClientId(clientId: string): Promise<ClientSnapshot | undefined> {
    if (clientId.length === 0 || clientId.length > 128) return undefined;
    const found = await this.cache.wrap<{ c: ClientSnapshot | null }>(
      CacheKeys.client(clientId),
      () => CLIENT_TTL_MS,
      async () => {
        const row = await dbCall(() => this.repo.findOneBy({ clientId }));
        return { c: row ? toClientSnapshot(row) : null };
      },
    );
    return found.c ?? undefined;
  }

  /**
   * The active client these credentials belong to, or undefined. The hash comparison is constant-time;
   * an unknown client costs one hash too, so timing does not tell which part was wrong.
   */
  async authenticate(clientId: string, secret: string): Promise<ClientSnapshot | undefined> {
    const client = await this.findByClientId(clientId);
    const ok = secretMatches(secret, client?.secretHash ?? UNKNOWN_CLIENT_HASH);
    // A private_key_jwt client never authenticates with a secret (its hash is of an unknown one anyway).
    return ok && client?.status === 'ACTIVE' && usesSecret(client) ? client : undefined;
  }

  async rotateSecret(id: string, from?: AuditRequest): Promise<CreatedClient> {
    const current = await this.changeable(id);
    if (!usesSecret(current)) {
      throw ClientsErrors.invalid(
        current.tokenEndpointAuthMethod === 'none'
          ? 'id: a public (NONE) client has no secret'
          : 'id: a PRIVATE_KEY_JWT client has no secret; use setClientJwks',
      );
    }
    const secret = newClientSecret();
    await this.write(current, 'client.secret.rotate', from, (repo) =>
      repo.update({ id }, { secretHash: hashSecret(secret), secretRotatedAt: new Date() }),
    );
    await this.invalidate(current.clientId);
    return { client: await this.get(id), secret };
  }

  /**
   * Changes what a client may do (name, grants, scopes, exchange policy), at once on every node (the
   * cached client is dropped). Narrowed scopes also narrow its existing grants at their next refresh.
   * Its project cannot change: a new client is the safe way to move one.
   */
  async update(id: string, input: UpdateClientInput, from?: AuditRequest): Promise<ClientSnapshot> {
    const current = await this.changeable(id);
    const name = input.name?.trim() ?? current.name;
    if (name.length === 0) throw ClientsErrors.invalid('name must not be blank');
    const policy = this.checkedPolicy(current.tokenEndpointAuthMethod, {
      grantTypes: input.grantTypes ?? current.grantTypes,
      scopes: input.scopes ?? current.scopes,
      exchangeIssuers: input.exchangeIssuers ?? current.exchangeIssuers,
      redirectUris: input.redirectUris ?? current.redirectUris,
      postLogoutRedirectUris: input.postLogoutRedirectUris ?? current.postLogoutRedirectUris,
    });
    await this.write(current, 'client.update', from, (repo) =>
      repo.update(
        { id },
        {
          name,
          ...policy,
          subjectResolution: input.subjectResolution ?? current.subjectResolution,
        },
      ),
    );
    await this.invalidate(current.clientId);
    return this.get(id);
  }

  /** Lets a disabled client authenticate again; tokens issued before it was disabled stay revoked. */
  async enable(id: string, from?: AuditRequest): Promise<ClientSnapshot> {
    const current = await this.get(id);
    await this.write(current, 'client.enable', from, (repo) =>
      repo.update({ id }, { status: 'ACTIVE' }),
    );
    await this.actors.setStatus(current.actorId, 'ACTIVE', from);
    await this.invalidate(current.clientId);
    return this.get(id);
  }

  /**
   * The rules every client's grants, scopes, exchange policy and redirect URIs follow (create and
   * update alike).
   */
  private checkedPolicy(method: TokenEndpointAuthMethod, input: ClientPolicy): ClientPolicy {
    const exchangeIssuers = [...new Set(input.exchangeIssuers)];
    for (const issuer of exchangeIssuers) {
      // `bridgekeeper`: the client may act for people whose Bridgekeeper tokens it holds (RFC 8693
      // delegation with its own token as actor_token).
      if (issuer !== OWN_TOKENS_ISSUER_NAME && !this.issuers.findByName(issuer)) {
        throw ClientsErrors.invalid(`exchangeIssuers: "${issuer}" is not a trusted issuer`);
      }
    }
    const grantTypes = [...new Set(input.grantTypes)];
    if (grantTypes.length === 0) throw ClientsErrors.invalid('grantTypes: name at least one');
    if (grantTypes.includes('token_exchange') && exchangeIssuers.length === 0) {
      throw ClientsErrors.invalid(
        'exchangeIssuers: a client that may exchange tokens must name the issuers it may exchange from',
      );
    }
    const scopes = [...new Set(input.scopes)];
    if (grantTypes.includes('refresh_token') && !scopes.includes('offline_access')) {
      throw ClientsErrors.invalid('scopes: refresh tokens are only issued with offline_access');
    }
    if (method === 'none' && grantTypes.some((g) => !PUBLIC_CLIENT_GRANTS.includes(g))) {
      throw ClientsErrors.invalid(
        'grantTypes: a public (NONE) client may use only AUTHORIZATION_CODE, DEVICE_CODE and REFRESH_TOKEN',
      );
    }
    if (
      method === 'none' &&
      !grantTypes.includes('authorization_code') &&
      !grantTypes.includes('device_code')
    ) {
      throw ClientsErrors.invalid(
        'grantTypes: a public (NONE) client needs AUTHORIZATION_CODE or DEVICE_CODE',
      );
    }
    const redirectUris = checkedRedirectUris('redirectUris', input.redirectUris);
    const postLogoutRedirectUris = checkedRedirectUris(
      'postLogoutRedirectUris',
      input.postLogoutRedirectUris,
    );
    const browser = grantTypes.includes('authorization_code');
    if (browser && redirectUris.length === 0) {
      throw ClientsErrors.invalid('redirectUris: an AUTHORIZATION_CODE client needs at least one');
    }
    if (!browser && (redirectUris.length > 0 || postLogoutRedirectUris.length > 0)) {
      throw ClientsErrors.invalid(
        'redirectUris: only AUTHORIZATION_CODE clients have redirect URIs',
      );
    }
    return { grantTypes, scopes, exchangeIssuers, redirectUris, postLogoutRedirectUris };
  }

  /** Replaces a private_key_jwt client's public keys at once: assertions signed by old keys fail. */
  async setJwks(id: string, text: string, from?: AuditRequest): Promise<ClientSnapshot> {
    const current = await this.changeable(id);
    if (current.tokenEndpointAuthMethod !== 'private_key_jwt') {
      throw ClientsErrors.invalid('jwks: only PRIVATE_KEY_JWT clients have keys');
    }
    const jwks = parseClientJwks(text);
    await this.write(current, 'client.jwks.set', from, (repo) => repo.update({ id }, { jwks }));
    await this.invalidate(current.clientId);
    return this.get(id);
  }

  /**
   * Disables the client and its principal, and revokes every token issued to it: access tokens are
   * refused on every node within a second, and its grants can never be refreshed again (even once the
   * client is enabled).
   */
  async disable(id: string, from?: AuditRequest): Promise<ClientSnapshot> {
    const current = await this.changeable(id);
    await this.write(current, 'client.disable', from, (repo) =>
      repo.update({ id }, { status: 'DISABLED', tokensRevokedAt: new Date() }),
    );
    await this.actors.setStatus(current.actorId, 'DISABLED', from);
    await this.revocations.revoke('client', current.clientId, this.tokensExpireBy());
    await this.invalidate(current.clientId);
    return this.get(id);
  }

  /** One admin change of a client and its audit event, in one transaction. */
  private async write(
    client: ClientSnapshot,
    action: string,
    from: AuditRequest | undefined,
    change: (repo: Repository<ClientEntity>) => Promise<unknown>,
  ): Promise<void> {
    await dbCall(() =>
      this.dataSource.transaction(async (m) => {
        await change(m.getRepository(ClientEntity));
        await this.audit.record(
          m,
          {
            action,
            targetType: 'client',
            targetId: client.id,
            projectId: client.projectId,
            details: { clientId: client.clientId },
          },
          from,
        );
      }),
    );
  }

  /** The client, unless it is built in (the console's): Bridgekeeper alone manages that one. */
  private async changeable(id: string): Promise<ClientSnapshot> {
    const current = await this.get(id);
    if (isBuiltInClient(current.clientId)) throw ClientsErrors.builtIn();
    return current;
  }

  /** When every access token issued up to now has expired. */
  private tokensExpireBy(): Date {
    return new Date(Date.now() + (this.config.oauth.accessTokenTtlSeconds + 120) * 1000);
  }

  private async invalidate(clientId: string): Promise<void> {
    await this.cache.del(CacheKeys.client(clientId));
  }
}

/** Compared against when the client id is unknown (equal work either way). */
const UNKNOWN_CLIENT_HASH = hashSecret('\u0000unknown client\u0000');

/** Whether the client authenticates with a secret (snapshots cached before the column existed do). */
export function usesSecret(client: ClientSnapshot): boolean {
  return usesSecretMethod(client.tokenEndpointAuthMethod ?? 'client_secret_basic');
}

function usesSecretMethod(method: TokenEndpointAuthMethod): boolean {
  return method === 'client_secret_basic' || method === 'client_secret_post';
}

/**
 * What a public client may do: the browser flow, the device flow (a person approves) and their refresh
 * tokens, nothing on its own behalf.
 */
const PUBLIC_CLIENT_GRANTS: readonly ClientGrantType[] = [
  'authorization_code',
  'device_code',
  'refresh_token',
];

interface ClientPolicy {
  grantTypes: ClientGrantType[];
  scopes: string[];
  exchangeIssuers: string[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
}
