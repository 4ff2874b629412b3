import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { type DataSource, type EntityManager } from 'typeorm';
import type { AuditRequest } from 'src/audit/audit-context';
import { AuditEventEntity, type AuditOutcome } from 'src/audit/audit-event.entity';
import { MicroBatcher } from 'src/common/batching/micro-batcher';
import { dbCall } from 'src/common/errors/db-errors';
import { LOGGER } from 'src/common/logging/logging.constants';
import { decodeCursor, type KeysetCursor, keysetPage } from 'src/common/pagination/keyset';
import { isUuid } from 'src/common/validation/uuid';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { MetricsService } from 'src/metrics/metrics.service';
import { AuditErrors } from 'src/audit/audit.errors';

export type AuditDetails = Record<string, string | number | boolean | null>;

/** What a module says about one event; who, from where and the request id come from the context. */
export interface AuditDraft {
  action: string;
  outcome?: AuditOutcome;
  targetType?: string;
  targetId?: string | null;
  projectId?: string | null;
  /** Overrides the caller (e.g. the person signing in, before any session exists). */
  actorId?: string | null;
  /** Overrides the token's client (e.g. the client authenticating at the token endpoint). */
  clientId?: string | null;
  /** Overrides the caller's `act` chain (an on-behalf-of call, recorded while it is established). */
  act?: { sub: string; client_id?: string }[];
  details?: AuditDetails;
}

export interface AuditQuery {
  first: number;
  after?: string;
  actorId?: string;
  action?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  /** Only these projects' events (a project admin); undefined: every event (server admin). */
  projectIds?: string[];
}

export interface AuditPage {
  items: { cursor: string; event: AuditEventEntity }[];
  hasNextPage: boolean;
}

/** Never stored under these names, whatever a caller passes in `details`. */
const FORBIDDEN_DETAIL = /secret|password|token|assertion|verifier|code|credential|cookie/i;
const MAX_DETAIL_LENGTH = 256;
/** Arbitrary constant: the advisory lock under which one node purges expired events. */
const PURGE_LOCK_KEY = 7_231_900_413;
const DAY_MS = 24 * 3600 * 1000;
/** The first purge runs this long after start (not during a rolling restart's busy seconds). */
const FIRST_PURGE_DELAY_MS = 60_000;

/**
 * The audit log (issue 13 §4). Admin mutations call `record` with the EntityManager of the transaction
 * that makes the change, so the event commits (or rolls back) with it. Security events on hot paths
 * (sign-ins, client authentication failures, token exchanges) go through `security`: queued and written
 * in batched multi-row inserts (one at a time, no added latency when idle), flushed before shutdown; one
 * lost to a database outage is counted in `bridgekeeper_audit_events_total{outcome="dropped"}` and logged.
 */
@Injectable()
export class AuditService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly batcher = new MicroBatcher<AuditEventEntity, void>(
    (rows) => this.insertMany(rows),
    1,
    500,
  );
  private readonly pending = new Set<Promise<void>>();
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const schedule = (ms: number) => {
      this.purgeTimer = setTimeout(() => {
        void this.purge()
          .catch((err: unknown) =>
            this.logger.warn({ err: { message: (err as Error).message } }, 'audit purge failed'),
          )
          .finally(() => schedule(DAY_MS));
      }, ms).unref();
    };
    schedule(FIRST_PURGE_DELAY_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.purgeTimer);
    await this.flush();
  }

  /**
   * Writes an event inside the caller's transaction (an admin mutation). `from`: the request that made
   * the change (who, from where, its id); absent for the service's own work (scheduled rotations).
   */
  async record(manager: EntityManager, draft: AuditDraft, from?: AuditRequest): Promise<void> {
    const row = this.build(draft, from);
    await manager.getRepository(AuditEventEntity).insert(row);
    this.written(row);
  }

  /** Queues a security event; written shortly in a batch (see the class comment). */
  security(draft: AuditDraft, from?: AuditRequest): void {
    const row = this.build(draft, from);
    const p = this.batcher.submit(row).then(
      () => this.written(row),
      (err: unknown) => {
        this.metrics.auditEvents.inc({ outcome: 'dropped' });
        this.logger.error(
          { err: { message: (err as Error).message }, action: row.action },
          'audit event not written',
        );
      },
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Waits until every queued security event is written (or dropped). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  async list(q: AuditQuery): Promise<AuditPage> {
    let after: KeysetCursor | undefined;
    if (q.after) {
      after = decodeCursor(q.after);
      if (!after) throw AuditErrors.invalidCursor();
    }
    if (q.actorId !== undefined && !isUuid(q.actorId)) throw AuditErrors.invalidFilter('actorId');
    if (q.from && q.to && q.from > q.to) throw AuditErrors.invalidFilter('from');
    const qb = this.dataSource.getRepository(AuditEventEntity).createQueryBuilder('e');
    if (q.actorId) qb.andWhere('e.actor_id = :actorId', { actorId: q.actorId });
    if (q.action) qb.andWhere('e.action = :action', { action: q.action });
    if (q.targetId) qb.andWhere('e.target_id = :targetId', { targetId: q.targetId });
    if (q.from) qb.andWhere('e.created_at >= :from', { from: q.from });
    if (q.to) qb.andWhere('e.created_at <= :to', { to: q.to });
    if (q.projectIds) {
      if (q.projectIds.length === 0) return { items: [], hasNextPage: false };
      qb.andWhere('e.project_id IN (:...projectIds)', { projectIds: q.projectIds });
    }
    const page = await dbCall(() => keysetPage(qb, 'e', q.first, after));
    return {
      items: page.items.map(({ cursor, entity }) => ({ cursor, event: entity })),
      hasNextPage: page.hasNextPage,
    };
  }

  /** Deletes events older than the retention, on one node (a transaction-scoped advisory lock). */
  async purge(): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const [{ locked }] = (await m.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [
        PURGE_LOCK_KEY,
      ])) as { locked: boolean }[];
      if (!locked) return 0;
      const result = await m
        .createQueryBuilder()
        .delete()
        .from(AuditEventEntity)
        .where(`created_at < now() - make_interval(days => :days)`, {
          days: this.config.audit.retentionDays,
        })
        .execute();
      const deleted = result.affected ?? 0;
      if (deleted > 0) this.logger.info({ deleted }, 'expired audit events purged');
      return deleted;
    });
  }

  private build(d: AuditDraft, req: AuditRequest | undefined): AuditEventEntity {
    const p = req?.principal;
    const row = new AuditEventEntity();
    row.action = d.action;
    row.outcome = d.outcome ?? 'SUCCESS';
    row.actorId = d.actorId !== undefined ? d.actorId : (p?.actor.id ?? null);
    row.clientId = d.clientId !== undefined ? d.clientId : (p?.own?.clientId ?? null);
    row.act = d.act ?? actChain(p);
    row.targetType = d.targetType ?? null;
    row.targetId = d.targetId ?? null;
    row.projectId =
      d.projectId !== undefined && d.projectId !== null && isUuid(d.projectId)
        ? d.projectId
        : (p?.own?.project ?? null);
    row.clientAddress = req?.ip ?? null;
    row.requestId = req?.id ?? null;
    row.details = d.details ? safeDetails(d.details) : null;
    row.createdAt = new Date();
    return row;
  }

  private async insertMany(rows: AuditEventEntity[]): Promise<void[]> {
    await this.dataSource.getRepository(AuditEventEntity).insert(rows);
    return rows.map(() => undefined);
  }

  private written(row: AuditEventEntity): void {
    this.metrics.auditEvents.inc({ outcome: row.outcome });
    if (this.config.audit.stdout) {
      process.stdout.write(`${JSON.stringify({ audit: row })}\n`);
    }
  }
}

/** Scalars only, bounded, and never under a name that could hold a credential. */
function safeDetails(d: AuditDetails): AuditDetails {
  const out: AuditDetails = {};
  for (const [k, v] of Object.entries(d)) {
    if (FORBIDDEN_DETAIL.test(k)) continue;
    out[k] = typeof v === 'string' ? v.slice(0, MAX_DETAIL_LENGTH) : v;
  }
  return out;
}

/** Tokens nest `act` at most 5 deep (own-tokens.ts); a bound here too, whatever the principal holds. */
const MAX_ACT_LINKS = 8;

/**
 * Who acted for the caller, most recent first: the agents of a delegated token (RFC 8693 `act`,
 * flattened), then an admin client acting for a member; null when the caller acted for itself.
 */
function actChain(p: AuditRequest['principal']): AuditEventEntity['act'] {
  const chain: { sub: string; client_id?: string }[] = [];
  for (let link = p?.own?.act; link && chain.length < MAX_ACT_LINKS; link = link.act) {
    chain.push(link.client_id ? { sub: link.sub, client_id: link.client_id } : { sub: link.sub });
  }
  if (p?.onBehalfOf) chain.push({ sub: p.onBehalfOf.actorId, client_id: p.onBehalfOf.clientId });
  return chain.length > 0 ? chain : null;
}
