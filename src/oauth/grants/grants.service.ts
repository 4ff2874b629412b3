import type { AuditRequest } from 'src/audit/audit-context';
import { randomBytes } from 'node:crypto';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AuditService } from 'src/audit/audit.service';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import { hashSecret } from 'src/clients/client-secret';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { dbCall } from 'src/common/errors/db-errors';
import { AuthorizationCodeEntity } from 'src/oauth/grants/authorization-code.entity';
import { DeviceCodeEntity } from 'src/oauth/grants/device-code.entity';
import { GrantEntity } from 'src/oauth/grants/grant.entity';
import { RefreshTokenEntity } from 'src/oauth/grants/refresh-token.entity';
import { OauthErrors } from 'src/oauth/oauth.errors';
import { verifierMatches } from 'src/oauth/pkce';
import { RevocationService } from 'src/revocation/revocation.service';
import type { ResourceKind } from 'src/token-validation/oauth-resources';

/** Refresh tokens are opaque: `bkr_` + 256 random bits; only their SHA-256 is stored. */
const REFRESH_PREFIX = 'bkr_';
/** Authorization codes likewise: `bka_` + 256 random bits, only the SHA-256 stored. */
const CODE_PREFIX = 'bka_';
/** Expired grants are deleted about this often per node (an indexed, idempotent DELETE). */
const PURGE_EVERY_MS = 10 * 60_000;

export interface NewGrant {
  clientId: string;
  actorId: string;
  scope: string[];
  membershipId?: string;
  /** Seconds since the epoch; capped by the refresh-token lifetime. */
  notAfter?: number;
  /** The browser session (public id) a grant of the code flow was made in. */
  browserSessionId?: string;
  /** RFC 8707: the resource the grant's tokens are for (the API by default); refreshes keep it. */
  resource?: ResourceKind;
}

export interface GrantWithRefresh {
  grant: GrantEntity;
  refreshToken: string;
}

/** What an authorization code is bound to (issue 9 §2). */
export interface NewAuthorizationCode {
  clientId: string;
  actorId: string;
  redirectUri: string;
  codeChallenge: string;
  scope: string[];
  nonce?: string;
  browserSessionId: string;
  authTime: number;
  amr: string[];
  resource: ResourceKind;
}

export interface CodeRedemption {
  clientId: string;
  code: string;
  redirectUri: string;
  codeVerifier: string;
  /** RFC 8707 §2.2: the resource named at the token endpoint, which must be the code's. */
  resource?: ResourceKind;
  /** Issue a refresh token with the grant (the code's scope has offline_access). */
  withRefresh: (scope: string[]) => boolean;
}

export interface RedeemedCode {
  code: AuthorizationCodeEntity;
  grant: GrantEntity;
  refreshToken?: string;
}

export function looksLikeRefreshToken(token: string): boolean {
  return token.startsWith(REFRESH_PREFIX) && token.length < 200;
}

/**
 * Grants and their refresh tokens (issue 4 §2): a refresh token is rotated on every use, and a refresh
 * token used twice revokes its whole grant, access tokens included (RFC 9700 §4.14, SECURITY.md 12).
 */
@Injectable()
export class GrantsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private purgeTimer?: NodeJS.Timeout;

  onApplicationBootstrap(): void {
    this.purgeTimer = setInterval(
      () => void this.purgeExpired().catch(() => undefined),
      PURGE_EVERY_MS,
    ).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.purgeTimer);
  }

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly revocations: RevocationService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {}

  async create(g: NewGrant): Promise<GrantWithRefresh> {
    return dbCall(() =>
      this.dataSource.transaction(async (m) => {
        const grant = await this.insertGrant(m, g);
        const refreshToken = await this.insertRefresh(m.getRepository(RefreshTokenEntity), grant);
        return { grant, refreshToken };
      }),
    );
  }

  /** A grant without a refresh token (its access tokens name it, so ending it ends them). */
  async createWithoutRefresh(g: NewGrant): Promise<GrantEntity> {
    return dbCall(() => this.dataSource.transaction((m) => this.insertGrant(m, g)));
  }

  private insertGrant(m: EntityManager, g: NewGrant): Promise<GrantEntity> {
    let expiresAt = Date.now() + this.config.oauth.refreshTokenTtlSeconds * 1000;
    if (g.notAfter !== undefined) expiresAt = Math.min(expiresAt, g.notAfter * 1000);
    const repo = m.getRepository(GrantEntity);
    return repo.save(
      repo.create({
        clientId: g.clientId,
        actorId: g.actorId,
        scope: g.scope,
        membershipId: g.membershipId ?? null,
        browserSessionId: g.browserSessionId ?? null,
        resource: g.resource ?? 'api',
        expiresAt: new Date(expiresAt),
      }),
    );
  }

  /** Stores a new authorization code (its hash) and returns the code, shown to the client once. */
  async issueCode(c: NewAuthorizationCode): Promise<string> {
    const code = `${CODE_PREFIX}${randomBytes(32).toString('base64url')}`;
    await dbCall(() =>
      this.dataSource.getRepository(AuthorizationCodeEntity).insert({
        codeHash: hashSecret(code),
        clientId: c.clientId,
        actorId: c.actorId,
        redirectUri: c.redirectUri,
        codeChallenge: c.codeChallenge,
        scope: c.scope,
        nonce: c.nonce ?? null,
        browserSessionId: c.browserSessionId,
        authTime: c.authTime,
        amr: c.amr,
        resource: c.resource,
        expiresAt: new Date(Date.now() + this.config.oauth.codeTtlSeconds * 1000),
      }),
    );
    return code;
  }

  /**
   * Redeems an authorization code once (RFC 6749 §4.1.3, RFC 7636 §4.6): the code row is locked, so of
   * two concurrent redemptions one wins and the other is a replay. A replayed code revokes the grant
   * the first redemption produced (RFC 6749 §4.1.2, SECURITY.md 21). A code presented with the wrong
   * redirect URI or verifier is used up: it can never be redeemed after a failed attempt.
   */
  async redeemCode(r: CodeRedemption): Promise<RedeemedCode> {
    if (!r.code.startsWith(CODE_PREFIX) || r.code.length > 200) {
      throw OauthErrors.invalidGrant('code_unknown');
    }
    type Outcome = { redeemed: RedeemedCode } | { refused: string; grantId?: string | null };
    const outcome = await dbCall(() =>
      this.dataSource.transaction(async (m): Promise<Outcome> => {
        const codes = m.getRepository(AuthorizationCodeEntity);
        const row = await codes
          .createQueryBuilder('c')
          .setLock('pessimistic_write')
          .where('c.code_hash = :h', { h: hashSecret(r.code) })
          .getOne();
        if (!row) return { refused: 'code_unknown' };
        // Another client's code: refused and left alone (that client did nothing wrong).
        if (row.clientId !== r.clientId) return { refused: 'code_other_client' };
        if (row.usedAt) return { refused: 'code_reuse', grantId: row.grantId };
        const now = new Date();
        await codes.update({ id: row.id }, { usedAt: now });
        if (row.expiresAt <= now) return { refused: 'code_expired' };
        if (row.redirectUri !== r.redirectUri) return { refused: 'redirect_uri_mismatch' };
        if (!verifierMatches(r.codeVerifier, row.codeChallenge)) {
          return { refused: 'pkce_mismatch' };
        }
        if (r.resource !== undefined && r.resource !== row.resource) {
          return { refused: 'resource_mismatch' };
        }
        const grant = await this.insertGrant(m, {
          clientId: row.clientId,
          actorId: row.actorId,
          scope: row.scope,
          browserSessionId: row.browserSessionId,
          resource: row.resource,
        });
        await codes.update({ id: row.id }, { grantId: grant.id });
        const refreshToken = r.withRefresh(row.scope)
          ? await this.insertRefresh(m.getRepository(RefreshTokenEntity), grant)
          : undefined;
        return { redeemed: { code: row, grant, refreshToken } };
      }),
    );
    if ('redeemed' in outcome) return outcome.redeemed;
    if (outcome.refused === 'code_reuse' && outcome.grantId) {
      await this.revoke(outcome.grantId, 'code_reuse');
    }
    if (outcome.refused === 'resource_mismatch') {
      throw OauthErrors.invalidTarget('The code was issued for another resource');
    }
    throw OauthErrors.invalidGrant(outcome.refused);
  }

  /**
   * The browser session ended (logout): the grants made in it end, access tokens included, and codes
   * issued in it that were not redeemed yet are used up. Returns how many grants were open.
   */
  async revokeBrowserSession(browserSessionId: string): Promise<number> {
    const open = await dbCall(() =>
      this.dataSource.getRepository(GrantEntity).find({
        select: { id: true },
        where: { browserSessionId, revokedAt: IsNull() },
      }),
    );
    await dbCall(() =>
      this.dataSource
        .getRepository(AuthorizationCodeEntity)
        .update({ browserSessionId, usedAt: IsNull() }, { usedAt: new Date() }),
    );
    for (const g of open) await this.revoke(g.id, 'logout');
    return open.length;
  }

  /**
   * Exchanges a refresh token for a new one of the same grant. The old one is marked used atomically;
   * presenting a used one (a replay: the token was stolen or the client is confused) revokes the grant.
   */
  async rotate(
    clientId: string,
    presented: string,
    clientTokensRevokedAt?: Date,
    from?: AuditRequest,
  ): Promise<GrantWithRefresh> {
    if (!looksLikeRefreshToken(presented)) throw OauthErrors.invalidGrant('refresh_unknown');
    const found = await this.findRefresh(presented);
    if (!found) throw OauthErrors.invalidGrant('refresh_unknown');
    const { row, grant } = found;
    // A token of another client: refused, and not revoked (the other client did nothing wrong).
    if (grant.clientId !== clientId) throw OauthErrors.invalidGrant('refresh_other_client');
    if (grant.revokedAt) throw OauthErrors.invalidGrant('grant_revoked');
    // Every token of the client issued up to then was revoked (the client was disabled).
    if (clientTokensRevokedAt && grant.createdAt <= clientTokensRevokedAt) {
      await this.revoke(grant.id, 'client_disabled');
      throw OauthErrors.invalidGrant('grant_revoked');
    }
    const now = new Date();
    if (row.expiresAt <= now || grant.expiresAt <= now) {
      throw OauthErrors.invalidGrant('refresh_expired');
    }
    if (row.usedAt) {
      this.refreshReused(grant, from);
      await this.revoke(grant.id, 'refresh_reuse');
      throw OauthErrors.invalidGrant('refresh_reuse');
    }
    return dbCall(() =>
      this.dataSource.transaction(async (m) => {
        const repo = m.getRepository(RefreshTokenEntity);
        const marked = await repo.update({ id: row.id, usedAt: IsNull() }, { usedAt: now });
        if (!marked.affected) {
          // Two concurrent uses of one refresh token: one of them is a replay.
          throw OauthErrors.invalidGrant('refresh_reuse');
        }
        return { grant, refreshToken: await this.insertRefresh(repo, grant) };
      }),
    ).catch(async (err: unknown) => {
      if ((err as { reason?: string }).reason === 'refresh_reuse') {
        this.refreshReused(grant, from);
        await this.revoke(grant.id, 'refresh_reuse');
      }
      throw err;
    });
  }

  /** The refresh token and its grant, or undefined (unknown token). */
  async findRefresh(
    presented: string,
  ): Promise<{ row: RefreshTokenEntity; grant: GrantEntity } | undefined> {
    if (!looksLikeRefreshToken(presented)) return undefined;
    const row = await dbCall(() =>
      this.dataSource.getRepository(RefreshTokenEntity).findOne({
        where: { tokenHash: hashSecret(presented) },
        relations: { grant: true },
      }),
    );
    return row?.grant ? { row, grant: row.grant } : undefined;
  }

  /** Ends a grant: its refresh tokens stop working now, its access tokens on every node within 1 s. */
  async revoke(grantId: string, reason: string): Promise<void> {
    await dbCall(() =>
      this.dataSource
        .getRepository(GrantEntity)
        .update(
          { id: grantId, revokedAt: IsNull() },
          { revokedAt: new Date(), revokedReason: reason },
        ),
    );
    await this.revocations.revoke('grant', grantId, this.accessTokensExpireBy());
  }

  /** The browser session a grant of the code flow was made in (null: none, or no such grant). */
  async browserSessionOf(grantId: string): Promise<string | null> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(grantId))
      return null;
    const row = await dbCall(() =>
      this.dataSource
        .getRepository(GrantEntity)
        .findOne({ select: { browserSessionId: true }, where: { id: grantId } }),
    );
    return row?.browserSessionId ?? null;
  }

  /**
   * Ends every session of an actor: all its grants, and every access token issued to it so far (for a
   * client's principal, every token issued to that client). Returns how many grants were open.
   */
  async revokeActorSessions(
    actorId: string,
    clientPrincipalOf?: string,
    from?: AuditRequest,
  ): Promise<number> {
    const result = await dbCall(() =>
      this.dataSource.transaction(async (m) => {
        const updated = await m
          .getRepository(GrantEntity)
          .update(
            { actorId, revokedAt: IsNull() },
            { revokedAt: new Date(), revokedReason: 'admin' },
          );
        await this.audit.record(
          m,
          {
            action: 'actor.sessions.revoke',
            targetType: 'actor',
            targetId: actorId,
            details: { grants: updated.affected ?? 0 },
          },
          from,
        );
        return updated;
      }),
    );
    await this.revocations.revoke('actor', actorId, this.accessTokensExpireBy());
    if (clientPrincipalOf) {
      await this.revocations.revoke('client', clientPrincipalOf, this.accessTokensExpireBy());
    }
    return result.affected ?? 0;
  }

  /** A used refresh token presented again: the grant is revoked, and the event audited. */
  private refreshReused(
    grant: { id: string; actorId: string; clientId: string },
    from: AuditRequest | undefined,
  ): void {
    this.audit.security(
      {
        action: 'refresh_token.reuse',
        outcome: 'FAILURE',
        actorId: grant.actorId,
        clientId: grant.clientId,
        targetType: 'grant',
        targetId: grant.id,
      },
      from,
    );
  }

  /**
   * Deletes grants (with their refresh tokens) that expired more than a day ago: none of their tokens
   * can be used any more, and a replayed refresh token of theirs is refused as unknown.
   */
  async purgeExpired(): Promise<number> {
    const result = await dbCall(() =>
      this.dataSource
        .createQueryBuilder()
        .delete()
        .from(GrantEntity)
        .where("expires_at < now() - interval '1 day'")
        .execute(),
    );
    // Codes live a minute; a day later not even a replay of theirs needs them (their grant is purged).
    // Device authorizations likewise (a replayed device code is then unknown: invalid_grant).
    for (const entity of [AuthorizationCodeEntity, DeviceCodeEntity]) {
      await dbCall(() =>
        this.dataSource
          .createQueryBuilder()
          .delete()
          .from(entity)
          .where("expires_at < now() - interval '1 day'")
          .execute(),
      );
    }
    return result.affected ?? 0;
  }

  private accessTokensExpireBy(): Date {
    return new Date(Date.now() + (this.config.oauth.accessTokenTtlSeconds + 120) * 1000);
  }

  private async insertRefresh(
    repo: ReturnType<DataSource['getRepository']>,
    grant: GrantEntity,
  ): Promise<string> {
    const token = `${REFRESH_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = Math.min(
      Date.now() + this.config.oauth.refreshTokenTtlSeconds * 1000,
      grant.expiresAt.getTime(),
    );
    await repo.insert({
      grantId: grant.id,
      tokenHash: hashSecret(token),
      expiresAt: new Date(expiresAt),
    });
    return token;
  }
}
