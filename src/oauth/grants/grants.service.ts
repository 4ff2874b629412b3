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
import { isWellFormedVerifier, s256, verifierMatches } from 'src/oauth/pkce';
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
  /** The client may hold refresh tokens: one is issued when the code's scope has offline_access. */
  mayRefresh: boolean;
}

export interface RedeemedCode {
  code: Pick<AuthorizationCodeEntity, 'browserSessionId' | 'authTime' | 'amr' | 'nonce'>;
  grant: Pick<GrantEntity, 'id' | 'actorId' | 'scope' | 'resource'>;
  refreshToken?: string;
}

/** One row of REDEEM_CODE: the code as it was before this redemption, and what it produced. */
interface RedeemRow {
  used_at: Date | null;
  grant_id: string | null;
  actor_id: string;
  redirect_uri: string;
  code_challenge: string;
  scope: string[];
  nonce: string | null;
  browser_session_id: string;
  auth_time: string;
  amr: string[];
  expired: boolean;
  resource: ResourceKind;
  new_grant_id: string | null;
  refresh_issued: boolean;
}

/**
 * Redeems a code in ONE statement (one round trip, no explicit transaction; a statement is atomic):
 * - `prev` locks the client's code row (`FOR UPDATE`): of two concurrent redemptions the second waits,
 *   then sees the first's `used_at` and `grant_id` (a replay, which revokes that grant);
 * - `ok` keeps it only if unused, unexpired, with the same redirect URI and the PKCE S256 challenge of
 *   the presented verifier ($4, computed by the caller; NULL for a malformed verifier);
 * - `g` opens the grant, `r` its refresh token (with offline_access, when the client may: $6 not NULL);
 * - `claim` uses the code up in every case (a code presented with a wrong redirect URI or verifier can
 *   never be redeemed afterwards) and records the grant it produced.
 * Another client's code matches nothing: refused and left alone.
 */
const REDEEM_CODE = `
WITH prev AS (
  SELECT id, used_at, grant_id, actor_id, redirect_uri, code_challenge, scope, nonce,
         browser_session_id, auth_time, amr, resource, expires_at <= now() AS expired
    FROM oauth_authorization_codes
   WHERE code_hash = $1 AND client_id = $2
     FOR UPDATE
), ok AS (
  SELECT * FROM prev
   WHERE used_at IS NULL AND NOT expired AND redirect_uri = $3 AND code_challenge = $4
     AND ($7::text IS NULL OR resource = $7)
), g AS (
  INSERT INTO oauth_grants (client_id, actor_id, scope, browser_session_id, expires_at, resource)
  SELECT $2, actor_id, scope, browser_session_id, $5, resource FROM ok
  RETURNING id
), r AS (
  INSERT INTO oauth_refresh_tokens (grant_id, token_hash, expires_at)
  SELECT g.id, $6, $5 FROM g, ok
   WHERE $6::text IS NOT NULL AND 'offline_access' = ANY (ok.scope)
  RETURNING id
), claim AS (
  UPDATE oauth_authorization_codes c
     SET used_at = COALESCE(prev.used_at, now()),
         grant_id = COALESCE(prev.grant_id, (SELECT id FROM g))
    FROM prev
   WHERE c.id = prev.id
  RETURNING c.id
)
SELECT prev.used_at, prev.grant_id, prev.actor_id, prev.redirect_uri, prev.code_challenge, prev.scope,
       prev.nonce, prev.browser_session_id, prev.auth_time, prev.amr, prev.expired, prev.resource,
       (SELECT id FROM g) AS new_grant_id, EXISTS (SELECT 1 FROM r) AS refresh_issued
  FROM prev`;

/** The S256 challenge a verifier answers, or null for a malformed verifier (it answers none). */
function challengeOf(verifier: string): string | null {
  return isWellFormedVerifier(verifier) ? s256(verifier) : null;
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
    const codeHash = hashSecret(r.code);
    const refreshToken = r.mayRefresh
      ? `${REFRESH_PREFIX}${randomBytes(32).toString('base64url')}`
      : undefined;
    // A grant of the code flow and its refresh token live as long as refresh tokens do.
    const expiresAt = new Date(Date.now() + this.config.oauth.refreshTokenTtlSeconds * 1000);
    const rows = await dbCall(
      () =>
        this.dataSource.query(REDEEM_CODE, [
          codeHash,
          r.clientId,
          r.redirectUri,
          challengeOf(r.codeVerifier),
          expiresAt,
          refreshToken === undefined ? null : hashSecret(refreshToken),
          r.resource ?? null,
        ]) as Promise<RedeemRow[]>,
    );
    const row = rows[0];
    if (!row) {
      // Unknown, or another client's (refused and left alone: that client did nothing wrong).
      const other = await dbCall(() =>
        this.dataSource.getRepository(AuthorizationCodeEntity).exists({ where: { codeHash } }),
      );
      throw OauthErrors.invalidGrant(other ? 'code_other_client' : 'code_unknown');
    }
    if (row.new_grant_id) {
      return {
        code: {
          browserSessionId: row.browser_session_id,
          authTime: Number(row.auth_time),
          amr: row.amr,
          nonce: row.nonce,
        },
        grant: {
          id: row.new_grant_id,
          actorId: row.actor_id,
          scope: row.scope,
          resource: row.resource,
        },
        refreshToken: row.refresh_issued ? refreshToken : undefined,
      };
    }
    let refused: string;
    if (row.used_at) refused = 'code_reuse';
    else if (row.expired) refused = 'code_expired';
    else if (row.redirect_uri !== r.redirectUri) refused = 'redirect_uri_mismatch';
    else if (!verifierMatches(r.codeVerifier, row.code_challenge)) refused = 'pkce_mismatch';
    else if (r.resource !== undefined && r.resource !== row.resource) {
      throw OauthErrors.invalidTarget('The code was issued for another resource');
    } else refused = 'code_unknown'; // not reached: every check above passed, so a grant was made
    if (refused === 'code_reuse' && row.grant_id) await this.revoke(row.grant_id, 'code_reuse');
    throw OauthErrors.invalidGrant(refused);
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

  /** Binds a new grant of the code flow to the membership its person signed in to a project with. */
  async setMembership(grantId: string, membershipId: string): Promise<void> {
    await dbCall(() =>
      this.dataSource.getRepository(GrantEntity).update({ id: grantId }, { membershipId }),
    );
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
