import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { MoreThan, type Repository } from 'typeorm';
import { ClusterBus, ClusterChannels } from 'src/cache/cluster-bus';
import { ReplicatedSnapshot } from 'src/cache/replicated-snapshot';
import { LOGGER } from 'src/common/logging/logging.constants';
import { dbCall } from 'src/common/errors/db-errors';
import { MetricsService } from 'src/metrics/metrics.service';
import { RevocationEntity, type RevocationKind } from 'src/revocation/revocation.entity';

/** What a revocation check needs from one of our tokens. */
export interface RevocableToken {
  jti?: string;
  sid?: string;
  sub: string;
  clientId?: string;
  /** Seconds since the epoch. */
  iat: number;
}

interface Notice {
  kind: RevocationKind;
  value: string;
  revokedAt: number;
  expiresAt: number;
}

/**
 * With several nodes (Redis), the database catch-up runs every second: it covers messages lost while the
 * subscriber was cut off, including those of the first seconds of an outage, before anything notices
 * it (one indexed query per second per node, normally empty). A single node (no Redis) learns its own
 * revocations at once and only re-reads for expiry.
 */
const CATCH_UP_MS_SHARED = 1_000;
const CATCH_UP_MS_SINGLE_NODE = 30_000;
/** Overlap between catch-up reads, for rows whose commit lagged their `revoked_at`. */
const CATCH_UP_OVERLAP_MS = 10_000;
/** Expired revocations (every token they cover has expired) are deleted about this often per node. */
const PURGE_EVERY_MS = 10 * 60_000;

/**
 * Every unexpired revocation, held in memory on every node so the check is a map lookup on the hot path.
 * The database is the source of truth; a revocation made on any node reaches the others at once over
 * the cluster bus (Redis pub/sub), and a catch-up read of the database every second covers messages
 * lost while Redis is down: every node refuses a revoked token within about a second, with or without
 * Redis up (SECURITY.md rules 13, 19).
 */
@Injectable()
export class RevocationService implements OnApplicationBootstrap, OnApplicationShutdown {
  /** `kind:value` → revoked-at (ms) and expiry (ms). */
  private readonly entries = new Map<string, { revokedAt: number; expiresAt: number }>();
  private readonly replica: ReplicatedSnapshot;
  private lastCatchUp = 0;
  private lastPurge = Date.now();

  constructor(
    @InjectRepository(RevocationEntity) private readonly repo: Repository<RevocationEntity>,
    bus: ClusterBus,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) logger: Logger,
  ) {
    const catchUpMs = bus.kind === 'redis' ? CATCH_UP_MS_SHARED : CATCH_UP_MS_SINGLE_NODE;
    this.replica = new ReplicatedSnapshot({
      name: 'revocations',
      channel: ClusterChannels.revocation,
      bus,
      logger,
      load: () => this.catchUp(),
      // A notice carries the revocation itself: applied on every node, this one included.
      onMessage: (payload) => {
        this.learn(payload as Notice);
        return false;
      },
      poll: { everyMs: catchUpMs, whileBehindMs: CATCH_UP_MS_SHARED },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.replica.start().catch(() => undefined); // logged; refused (503) until loaded
  }

  onApplicationShutdown(): void {
    this.replica.stop();
  }

  /** True when this token was revoked (by itself, its grant, its subject or its client). */
  isRevoked(t: RevocableToken): boolean {
    const now = Date.now();
    const hit = (kind: RevocationKind, value: string | undefined, byIat: boolean) => {
      if (value === undefined) return false;
      const e = this.entries.get(`${kind}:${value}`);
      if (!e || e.expiresAt <= now) return false;
      return !byIat || t.iat * 1000 <= e.revokedAt;
    };
    return (
      hit('token', t.jti, false) ||
      hit('grant', t.sid, false) ||
      hit('actor', t.sub, true) ||
      hit('client', t.clientId, true)
    );
  }

  /** True when this browser session (by its public id) was ended, on any node. */
  isBrowserSessionEnded(sessionId: string): boolean {
    const e = this.entries.get(`browser_session:${sessionId}`);
    return e !== undefined && e.expiresAt > Date.now();
  }

  /** Whether revocations could be read from the database at least once (until then: refuse, 503). */
  get ready(): boolean {
    return this.replica.loaded;
  }

  /**
   * Stores a revocation, applies it on this node at once and tells the others. `expiresAt`: when the
   * last token it can refer to expires (after which the entry is useless).
   */
  async revoke(kind: RevocationKind, value: string, expiresAt: Date): Promise<void> {
    const row = await dbCall(() =>
      this.repo.save(this.repo.create({ kind, value, expiresAt, revokedAt: new Date() })),
    );
    this.metrics.revocations.inc({ kind });
    const notice: Notice = {
      kind,
      value,
      revokedAt: row.revokedAt.getTime(),
      expiresAt: row.expiresAt.getTime(),
    };
    await this.replica.publish(notice);
  }

  private learn(n: Notice): void {
    if (
      !n ||
      typeof n.kind !== 'string' ||
      typeof n.value !== 'string' ||
      typeof n.revokedAt !== 'number' ||
      typeof n.expiresAt !== 'number'
    ) {
      return;
    }
    const key = `${n.kind}:${n.value}`;
    const known = this.entries.get(key);
    // The latest revocation of an actor or client counts (it covers more tokens).
    if (!known || known.revokedAt < n.revokedAt || known.expiresAt < n.expiresAt) {
      this.entries.set(key, {
        revokedAt: Math.max(n.revokedAt, known?.revokedAt ?? 0),
        expiresAt: Math.max(n.expiresAt, known?.expiresAt ?? 0),
      });
    }
  }

  private async catchUp(): Promise<void> {
    const started = Date.now();
    const since = this.replica.loaded
      ? new Date(this.lastCatchUp - CATCH_UP_OVERLAP_MS)
      : undefined;
    const rows = await dbCall(() =>
      this.repo.find({
        where: since
          ? { revokedAt: MoreThan(since), expiresAt: MoreThan(new Date(started)) }
          : { expiresAt: MoreThan(new Date(started)) },
      }),
    );
    for (const r of rows) {
      this.learn({
        kind: r.kind,
        value: r.value,
        revokedAt: r.revokedAt.getTime(),
        expiresAt: r.expiresAt.getTime(),
      });
    }
    for (const [key, e] of this.entries) if (e.expiresAt <= started) this.entries.delete(key);
    this.lastCatchUp = started;
    if (started - this.lastPurge > PURGE_EVERY_MS) {
      this.lastPurge = started;
      await this.purgeExpired();
    }
  }

  /** Deletes revocations that cover no unexpired token any more (kept an hour longer, for audit). */
  async purgeExpired(): Promise<number> {
    const result = await dbCall(() =>
      this.repo
        .createQueryBuilder()
        .delete()
        .where("expires_at < now() - interval '1 hour'")
        .execute(),
    );
    return result.affected ?? 0;
  }
}
