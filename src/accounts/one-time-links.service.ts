import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, type Repository } from 'typeorm';
import { type LinkPurpose, OneTimeLinkEntity } from 'src/accounts/one-time-link.entity';
import { sha256Hex } from 'src/common/crypto/sha256';
import { dbCall } from 'src/common/errors/db-errors';

/** The shape of a link secret: 256 random bits, base64url. Anything else is refused without a lookup. */
export const LINK_SECRET = /^[A-Za-z0-9_-]{43}$/;

/**
 * One-time links (setup, set-password, reset): a random 256-bit secret goes into the URL; only its
 * SHA-256 is stored; `consume` marks it used in the caller's transaction, so it works exactly once even
 * when two requests race, and the account change and the use commit together.
 */
@Injectable()
export class OneTimeLinksService {
  constructor(
    @InjectRepository(OneTimeLinkEntity) private readonly repo: Repository<OneTimeLinkEntity>,
  ) {}

  /** A new link's secret (shown once, never stored). */
  async create(
    purpose: LinkPurpose,
    target: { accountId?: string; membershipId?: string },
    ttlSeconds: number,
  ): Promise<{ secret: string; expiresAt: Date }> {
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    await dbCall(() =>
      this.repo.insert({
        purpose,
        secretSha256: sha256Hex(secret),
        accountId: target.accountId ?? null,
        membershipId: target.membershipId ?? null,
        expiresAt,
      }),
    );
    return { secret, expiresAt };
  }

  /** The link if it is usable (unused, unexpired, one of these purposes), without using it. */
  async peek(purposes: LinkPurpose[], secret: string): Promise<OneTimeLinkEntity | null> {
    if (!LINK_SECRET.test(secret)) return null;
    const row = await dbCall(() => this.repo.findOneBy({ secretSha256: sha256Hex(secret) }));
    const usable =
      row !== null &&
      purposes.includes(row.purpose) &&
      row.usedAt === null &&
      row.expiresAt.getTime() > Date.now();
    return usable ? row : null;
  }

  /** Uses the link inside `manager`'s transaction; null when it is not usable (or was just used). */
  async consume(
    manager: EntityManager,
    purpose: LinkPurpose,
    secret: string,
  ): Promise<OneTimeLinkEntity | null> {
    if (!LINK_SECRET.test(secret)) return null;
    const result = await manager
      .createQueryBuilder()
      .update(OneTimeLinkEntity)
      .set({ usedAt: () => 'now()' })
      .where('secret_sha256 = :sha AND purpose = :purpose', { sha: sha256Hex(secret), purpose })
      .andWhere('used_at IS NULL AND expires_at > now()')
      .returning('*')
      .execute();
    const row = (result.raw as Record<string, unknown>[])[0];
    if (!row) return null;
    return this.repo.create({
      id: row.id as string,
      purpose: row.purpose as LinkPurpose,
      secretSha256: row.secret_sha256 as string,
      accountId: (row.account_id as string | null) ?? null,
      membershipId: (row.membership_id as string | null) ?? null,
      expiresAt: row.expires_at as Date,
      usedAt: row.used_at as Date,
    });
  }

  /** Deletes links that expired more than a day ago (used or not). */
  async purgeExpired(): Promise<void> {
    await dbCall(() =>
      this.repo
        .createQueryBuilder()
        .delete()
        .where("expires_at < now() - interval '1 day'")
        .execute(),
    );
  }

  /**
   * Voids the unused links of one purpose (a new setup link replaces the previous ones), of one account
   * or one invited membership when named.
   */
  async voidUnused(
    purpose: LinkPurpose,
    target: { accountId?: string; membershipId?: string } = {},
  ): Promise<void> {
    await dbCall(() =>
      this.repo
        .createQueryBuilder()
        .delete()
        .where('purpose = :purpose AND used_at IS NULL', { purpose })
        .andWhere(target.accountId ? 'account_id = :a' : '1=1', { a: target.accountId })
        .andWhere(target.membershipId ? 'membership_id = :m' : '1=1', { m: target.membershipId })
        .execute(),
    );
  }
}
