import { randomBytes } from 'node:crypto';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { hashSecret } from 'src/clients/client-secret';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { dbCall } from 'src/common/errors/db-errors';
import { GrantEntity } from 'src/oauth/grants/grant.entity';
import { RefreshTokenEntity } from 'src/oauth/grants/refresh-token.entity';
import { OauthErrors } from 'src/oauth/oauth.errors';
import { RevocationService } from 'src/revocation/revocation.service';

/** Refresh tokens are opaque: `bkr_` + 256 random bits; only their SHA-256 is stored. */
const REFRESH_PREFIX = 'bkr_';
/** Expired grants are deleted about this often per node (an indexed, idempotent DELETE). */
const PURGE_EVERY_MS = 10 * 60_000;

export interface NewGrant {
  clientId: string;
  actorId: string;
  scope: string[];
  membershipId?: string;
  /** Seconds since the epoch; capped by the refresh-token lifetime. */
  notAfter?: number;
}

export interface GrantWithRefresh {
  grant: GrantEntity;
  refreshToken: string;
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
  ) {}

  async create(g: NewGrant): Promise<GrantWithRefresh> {
    const now = Date.now();
    let expiresAt = now + this.config.oauth.refreshTokenTtlSeconds * 1000;
    if (g.notAfter !== undefined) expiresAt = Math.min(expiresAt, g.notAfter * 1000);
    return dbCall(() =>
      this.dataSource.transaction(async (m) => {
        const grant = await m.getRepository(GrantEntity).save(
          m.getRepository(GrantEntity).create({
            clientId: g.clientId,
            actorId: g.actorId,
            scope: g.scope,
            membershipId: g.membershipId ?? null,
            expiresAt: new Date(expiresAt),
          }),
        );
        const refreshToken = await this.insertRefresh(m.getRepository(RefreshTokenEntity), grant);
        return { grant, refreshToken };
      }),
    );
  }

  /**
   * Exchanges a refresh token for a new one of the same grant. The old one is marked used atomically;
   * presenting a used one (a replay: the token was stolen or the client is confused) revokes the grant.
   */
  async rotate(
    clientId: string,
    presented: string,
    clientTokensRevokedAt?: Date,
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

  /**
   * Ends every session of an actor: all its grants, and every access token issued to it so far (for a
   * client's principal, every token issued to that client). Returns how many grants were open.
   */
  async revokeActorSessions(actorId: string, clientPrincipalOf?: string): Promise<number> {
    const result = await dbCall(() =>
      this.dataSource
        .getRepository(GrantEntity)
        .update(
          { actorId, revokedAt: IsNull() },
          { revokedAt: new Date(), revokedReason: 'admin' },
        ),
    );
    await this.revocations.revoke('actor', actorId, this.accessTokensExpireBy());
    if (clientPrincipalOf) {
      await this.revocations.revoke('client', clientPrincipalOf, this.accessTokensExpireBy());
    }
    return result.affected ?? 0;
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
