import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { dbCall } from 'src/common/errors/db-errors';
import { LOGGER } from 'src/common/logging/logging.constants';
import { MetricsService } from 'src/metrics/metrics.service';

/** How often each node adds its counts to the shared table. */
const FLUSH_EVERY_MS = 10_000;
/** How often each node deletes rows older than a day (idempotent). */
const PURGE_EVERY_MS = 60 * 60_000;

export type ActivityOutcome = 'ACCEPTED' | 'REFUSED';

export interface TokenActivity {
  minute: Date;
  issuer: string;
  outcome: ActivityOutcome;
  /** Why it was refused; null when accepted. */
  reason: string | null;
  count: number;
}

interface Row {
  kind: 'token' | 'login';
  issuer: string;
  outcome: ActivityOutcome;
  reason: string;
  count: number;
}

/**
 * The overview's activity counts, cluster-wide (issue 10). Nothing is added to the request path: the
 * counts are the ones the token validation and login code already keep for `/metrics`. Every few
 * seconds each node reads them, and adds what grew since its last successful write to the per-minute
 * rows of `console_activity` (an upsert that adds, so nodes never overwrite each other).
 */
@Injectable()
export class ConsoleActivityService implements OnApplicationBootstrap, OnApplicationShutdown {
  /** The cumulative value per series at the last successful write. */
  private written = new Map<string, number>();
  private flushing?: Promise<void>;
  private flushTimer?: NodeJS.Timeout;
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    private readonly metrics: MetricsService,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.flushTimer = setInterval(() => void this.flushQuietly(), FLUSH_EVERY_MS);
    this.flushTimer.unref();
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.flushTimer);
    clearInterval(this.purgeTimer);
    await this.flushQuietly();
  }

  /** Writes this node's counts now (one flush at a time; a caller during one waits for it). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.flushing = this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /** Accepted and refused token validations per minute, issuer and reason, oldest first. */
  async tokenActivity(lastMinutes: number): Promise<TokenActivity[]> {
    await this.flushQuietly();
    const rows = await dbCall(
      () =>
        this.dataSource.query(
          `SELECT minute, issuer, outcome, reason, count FROM console_activity
            WHERE kind = 'token' AND minute >= date_trunc('minute', now()) - make_interval(mins => $1)
            ORDER BY minute, issuer, outcome, reason`,
          [lastMinutes - 1],
        ) as Promise<
          { minute: Date; issuer: string; outcome: string; reason: string; count: number }[]
        >,
    );
    return rows.map((r) => ({
      minute: new Date(r.minute),
      issuer: r.issuer,
      outcome: r.outcome as ActivityOutcome,
      reason: r.reason === '' ? null : r.reason,
      count: Number(r.count),
    }));
  }

  /** Refused password sign-ins (wrong password, locked out) in the last `minutes`, cluster-wide. */
  async failedLogins(minutes: number): Promise<number> {
    await this.flushQuietly();
    const [row] = await dbCall(
      () =>
        this.dataSource.query(
          `SELECT coalesce(sum(count), 0)::int AS n FROM console_activity
            WHERE kind = 'login' AND outcome = 'REFUSED' AND minute >= date_trunc('minute', now()) - make_interval(mins => $1)`,
          [minutes - 1],
        ) as Promise<{ n: number }[]>,
    );
    return Number(row?.n ?? 0);
  }

  private async write(): Promise<void> {
    const current = await this.readCounters();
    const rows: Row[] = [];
    for (const [key, { row, value }] of current) {
      const delta = value - (this.written.get(key) ?? 0);
      if (delta > 0) rows.push({ ...row, count: delta });
    }
    if (rows.length > 0) {
      await dbCall(() =>
        this.dataSource.query(
          `INSERT INTO console_activity (minute, kind, issuer, outcome, reason, count)
           SELECT date_trunc('minute', now()), * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[])
           ON CONFLICT ON CONSTRAINT pk_console_activity
           DO UPDATE SET count = console_activity.count + EXCLUDED.count`,
          [
            rows.map((r) => r.kind),
            rows.map((r) => r.issuer),
            rows.map((r) => r.outcome),
            rows.map((r) => r.reason),
            rows.map((r) => r.count),
          ],
        ),
      );
    }
    this.written = new Map([...current].map(([key, { value }]) => [key, value]));
  }

  /** The token-validation and login counters as rows of the table, with their cumulative values. */
  private async readCounters(): Promise<Map<string, { row: Omit<Row, 'count'>; value: number }>> {
    const out = new Map<string, { row: Omit<Row, 'count'>; value: number }>();
    const add = (row: Omit<Row, 'count'>, value: number): void => {
      const key = `${row.kind}\u0000${row.issuer}\u0000${row.outcome}\u0000${row.reason}`;
      const seen = out.get(key);
      if (seen) seen.value += value;
      else out.set(key, { row, value });
    };
    for (const v of (await this.metrics.tokenValidations.metric.get()).values) {
      const accepted = v.labels.outcome === 'valid';
      add(
        {
          kind: 'token',
          issuer: String(v.labels.issuer ?? 'unknown'),
          outcome: accepted ? 'ACCEPTED' : 'REFUSED',
          reason: accepted ? '' : String(v.labels.reason ?? 'unknown'),
        },
        v.value,
      );
    }
    for (const v of (await this.metrics.logins.metric.get()).values) {
      const accepted = v.labels.result === 'success';
      add(
        {
          kind: 'login',
          issuer: 'bridgekeeper',
          outcome: accepted ? 'ACCEPTED' : 'REFUSED',
          reason: accepted ? '' : String(v.labels.result ?? 'failure'),
        },
        v.value,
      );
    }
    return out;
  }

  /** A flush whose failure (database down) only waits for the next one: the counts are kept. */
  private async flushQuietly(): Promise<void> {
    await this.flush().catch((err: unknown) =>
      this.logger.warn(
        { err: { message: (err as Error).message } },
        'could not write console activity',
      ),
    );
  }

  private async purge(): Promise<void> {
    await dbCall(() =>
      this.dataSource.query(`DELETE FROM console_activity WHERE minute < now() - interval '1 day'`),
    ).catch((err: unknown) =>
      this.logger.warn(
        { err: { message: (err as Error).message } },
        'could not purge console activity',
      ),
    );
  }
}
