import type { AuditRequest } from 'src/audit/audit-context';
import { createHash } from 'node:crypto';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import type { Repository } from 'typeorm';
import { type AuditDraft, AuditService } from 'src/audit/audit.service';
import { ClusterBus, ClusterChannels } from 'src/cache/cluster-bus';
import { ReplicatedSnapshot } from 'src/cache/replicated-snapshot';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig, TrustedIssuerConfig } from 'src/config/config.types';
import {
  type CheckedIssuer,
  checkIssuer,
  type IssuerDraft,
  type IssuerField,
  issuerConflicts,
  type IssuerRuleOptions,
  RESERVED_ISSUER_NAMES,
} from 'src/config/issuer-rules';
import { dbCall, uniqueViolation } from 'src/common/errors/db-errors';
import { checkUserinfoReachable, EndpointError, fetchKeySet } from 'src/issuers/issuer-endpoints';
import { issuerUrlProblems } from 'src/issuers/issuer-url-policy';
import { IssuersErrors } from 'src/issuers/issuers.errors';
import { TrustedIssuerEntity } from 'src/issuers/trusted-issuer.entity';
import { OutboundHttpService } from 'src/outbound/outbound-http.service';

/** A trusted issuer as the admin API shows it. */
export interface TrustedIssuerView extends TrustedIssuerConfig {
  editable: boolean;
  createdAt?: Date;
  updatedAt?: Date;
}

/** Database issuers that appeared, changed or disappeared in one reload (configuration ones never do). */
export interface IssuersChange {
  added: TrustedIssuerConfig[];
  updated: TrustedIssuerConfig[];
  removed: TrustedIssuerConfig[];
}

/** A partial update: absent = unchanged; null clears an optional field. The name never changes. */
export type IssuerPatch = {
  [K in Exclude<keyof IssuerDraft, 'name'>]?: IssuerDraft[K] | null;
};

export interface IssuerWriteOptions {
  /** The request making the change, for the audit log. */
  from?: AuditRequest;
  /**
   * Fetch the JWKS and call the userinfo endpoint before saving, and refuse when they fail (default).
   * False: the admin's explicit "save it anyway" (an IdP not up yet, a network being set up).
   */
  checkReachability: boolean;
}

/** Fields whose change makes an update check the endpoints again. */
const ENDPOINT_FIELDS = ['jwksUrl', 'userinfoUrl', 'algorithms'] as const;

const CLEARABLE = new Set<string>(['jwksUrl', 'userinfoUrl', 'maxTokenAgeSeconds', 'fhirBase']);
/** Catch-up poll of the table: often while cluster messages may be missed, rarely otherwise. */
const POLL_DISCONNECTED_MS = 1_000;
const POLL_CONNECTED_MS = 30_000;

interface Snapshot {
  byIss: Map<string, TrustedIssuerConfig>;
  byName: Map<string, TrustedIssuerConfig>;
  opaque?: TrustedIssuerConfig;
  all: TrustedIssuerConfig[];
  /** Database issuers in use, by name, with their timestamps. */
  stored: Map<string, { issuer: TrustedIssuerConfig; createdAt: Date; updatedAt: Date }>;
}

/**
 * The trusted issuers: configuration ones (read-only) and database ones (admin API, issue 4 §4). Lookup
 * is by the exact `iss` (no case folding, no trailing-slash normalisation: SECURITY.md rule 1), on an
 * in-memory snapshot, synchronously: an unknown `iss` is never discovered. Every node reloads the table
 * on a cluster `issuers` message, and polls a cheap fingerprint of it as a catch-up (every second while
 * the bus may be missing messages, every 30 s otherwise). Create and update apply the same rules as the
 * configuration loader (`issuer-rules.ts`) plus SSRF checks on the URLs (rule 8), then fetch the JWKS
 * and call the userinfo endpoint, refusing endpoints that do not work unless the admin skips the check.
 * The table is kept in sync by a `ReplicatedSnapshot` (src/cache/replicated-snapshot.ts).
 */
@Injectable()
export class IssuersService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly configIssuers: TrustedIssuerConfig[];
  private readonly rules: IssuerRuleOptions;
  private readonly listeners: ((change: IssuersChange) => void)[] = [];
  private readonly replica: ReplicatedSnapshot;
  private snapshot: Snapshot;
  private fingerprint?: string;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(TrustedIssuerEntity) private readonly repo: Repository<TrustedIssuerEntity>,
    bus: ClusterBus,
    private readonly http: OutboundHttpService,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly audit: AuditService,
  ) {
    this.configIssuers = config.issuers;
    this.rules = { mode: config.mode, fieldName: (f) => f, ownIssuer: config.publicUrl };
    this.snapshot = buildSnapshot(this.configIssuers, new Map());
    this.replica = new ReplicatedSnapshot({
      name: 'trusted issuers',
      channel: ClusterChannels.issuers,
      bus,
      logger,
      load: () => this.loadOnce(),
      poll: { everyMs: POLL_CONNECTED_MS, whileBehindMs: POLL_DISCONNECTED_MS },
      changed: async () => (await this.readFingerprint()) !== this.fingerprint,
    });
  }

  /** After the migrations (they run in `onModuleInit`): the first load, then messages and polling. */
  async onApplicationBootstrap(): Promise<void> {
    // PostgreSQL down at start (rule 18): serve the configuration issuers, catch up every second.
    await this.replica.start().catch(() => undefined);
  }

  onApplicationShutdown(): void {
    this.replica.stop();
  }

  findByIss(iss: string): TrustedIssuerConfig | undefined {
    return this.snapshot.byIss.get(iss);
  }

  findByName(name: string): TrustedIssuerConfig | undefined {
    return this.snapshot.byName.get(name);
  }

  /** The one issuer that accepts opaque tokens, if any (at most one, configuration and database together). */
  opaqueIssuer(): TrustedIssuerConfig | undefined {
    return this.snapshot.opaque;
  }

  all(): TrustedIssuerConfig[] {
    return this.snapshot.all;
  }

  /** Called after every reload that changed database issuers (e.g. to fetch or drop key sets). */
  onChange(listener: (change: IssuersChange) => void): void {
    this.listeners.push(listener);
  }

  /** Configuration issuers first, then database issuers by name. */
  list(): TrustedIssuerView[] {
    const views: TrustedIssuerView[] = this.configIssuers.map((i) => ({ ...i, editable: false }));
    for (const s of [...this.snapshot.stored.values()].sort((a, b) =>
      a.issuer.name.localeCompare(b.issuer.name),
    )) {
      views.push({ ...s.issuer, editable: true, createdAt: s.createdAt, updatedAt: s.updatedAt });
    }
    return views;
  }

  async create(draft: IssuerDraft, options: IssuerWriteOptions): Promise<TrustedIssuerView> {
    const checked = this.check(draft);
    this.assertNoConflict(checked, this.snapshot.all);
    if (options.checkReachability) await this.assertReachable(checked);
    await dbCall(() =>
      this.repo.manager.transaction(async (m) => {
        await m.getRepository(TrustedIssuerEntity).insert(toRow(checked));
        await this.audit.record(m, issuerEvent('issuer.create', checked.name), options.from);
      }),
    ).catch(mapUniqueViolation(checked));
    return this.afterWrite(checked.name);
  }

  async update(
    name: string,
    patch: IssuerPatch,
    options: IssuerWriteOptions,
  ): Promise<TrustedIssuerView> {
    this.assertEditable(name);
    if (options.checkReachability && ENDPOINT_FIELDS.some((f) => patch[f] !== undefined)) {
      // Outside the transaction: no row lock is held while an IdP takes its time to answer.
      const row = await dbCall(() => this.repo.findOne({ where: { name } }));
      if (!row) throw IssuersErrors.notFound();
      const checked = this.check(applyPatch(draftOf(row), patch));
      this.assertNoConflict(
        checked,
        this.snapshot.all.filter((i) => i.name !== name),
      );
      await this.assertReachable(checked);
    }
    await dbCall(() =>
      this.repo.manager.transaction(async (m) => {
        const row = await m.findOne(TrustedIssuerEntity, {
          where: { name },
          lock: { mode: 'pessimistic_write' },
        });
        if (!row) throw IssuersErrors.notFound();
        const checked = this.check(applyPatch(draftOf(row), patch));
        this.assertNoConflict(
          checked,
          this.snapshot.all.filter((i) => i.name !== name),
        );
        Object.assign(row, toRow(checked), { revision: row.revision + 1 });
        await m.save(row).catch(mapUniqueViolation(checked));
        await this.audit.record(m, issuerEvent('issuer.update', name), options.from);
      }),
    );
    return this.afterWrite(name);
  }

  async delete(name: string, from?: AuditRequest): Promise<boolean> {
    this.assertEditable(name);
    const deleted = await dbCall(() =>
      this.repo.manager.transaction(async (m) => {
        const res = await m.getRepository(TrustedIssuerEntity).delete({ name });
        if (!res.affected) return false;
        await this.audit.record(m, issuerEvent('issuer.delete', name), from);
        return true;
      }),
    );
    if (!deleted) throw IssuersErrors.notFound();
    await this.afterWrite();
    return true;
  }

  private async afterWrite(name?: string): Promise<TrustedIssuerView> {
    // This node applies the change before answering; the others on the message (or their poll).
    await this.replica.changed();
    const view = name === undefined ? undefined : this.list().find((v) => v.name === name);
    if (name !== undefined && !view) throw new Error('trusted issuer written but not loaded');
    return view as TrustedIssuerView;
  }

  private check(draft: IssuerDraft): CheckedIssuer {
    const { issuer, problems } = checkIssuer(draft, this.rules);
    const urlProblems = this.urlProblems(draft);
    const all = [...problems, ...urlProblems];
    if (!issuer || all.length > 0) {
      throw IssuersErrors.invalid(all.map((p) => `${p.field}: ${p.message}`));
    }
    return issuer;
  }

  /**
   * The JWKS answers 200 with at least one public key for the issuer's algorithms, and the userinfo
   * endpoint answers at all (a 401 without a token is an answer; a network error or a 5xx is not).
   * Through the outbound policy, like every call to an IdP.
   */
  private async assertReachable(issuer: CheckedIssuer): Promise<void> {
    const problems: string[] = [];
    const probe = async (field: IssuerField, call: () => Promise<unknown>) => {
      try {
        await call();
      } catch (err) {
        if (!(err instanceof EndpointError)) throw err;
        problems.push(`${field}: ${err.problem.message}`);
      }
    };
    const { jwksUrl, userinfoUrl } = issuer;
    await Promise.all([
      jwksUrl && probe('jwksUrl', () => fetchKeySet(this.http, jwksUrl, issuer.algorithms)),
      userinfoUrl && probe('userinfoUrl', () => checkUserinfoReachable(this.http, userinfoUrl)),
    ]);
    if (problems.length > 0) throw IssuersErrors.unreachable(problems.sort());
  }

  private assertEditable(name: string): void {
    if (this.configIssuers.some((i) => i.name === name) || this.isReservedName(name)) {
      throw IssuersErrors.readOnly(name);
    }
  }

  private isReservedName(name: string): boolean {
    return RESERVED_ISSUER_NAMES.includes(name);
  }

  private urlProblems(draft: IssuerDraft) {
    return issuerUrlProblems(
      { jwksUrl: draft.jwksUrl, userinfoUrl: draft.userinfoUrl, fhirBase: draft.fhirBase },
      { allowLinkLocal: this.config.outbound.allowLinkLocal },
    );
  }

  private assertNoConflict(candidate: CheckedIssuer, others: readonly TrustedIssuerConfig[]): void {
    const [first] = issuerConflicts(candidate, others);
    if (!first) return;
    if (first.kind === 'name') throw IssuersErrors.nameTaken(candidate.name);
    if (first.kind === 'iss') throw IssuersErrors.issTaken(first.other);
    throw IssuersErrors.opaqueTaken(first.other);
  }

  private async loadOnce(): Promise<void> {
    // Fingerprint first, rows second: the rows are never older than the fingerprint kept, so a change
    // in between only causes one extra reload, never a missed one.
    const fingerprint = await this.readFingerprint();
    const rows = await dbCall(() => this.repo.find({ order: { name: 'ASC' } }));
    this.fingerprint = fingerprint;
    this.apply(rows);
  }

  private apply(rows: TrustedIssuerEntity[]): void {
    const previous = this.snapshot.stored;
    const stored: Snapshot['stored'] = new Map();
    const accepted = [...this.configIssuers];
    for (const row of rows) {
      const draft = draftOf(row);
      const { issuer, problems } = checkIssuer(draft, this.rules);
      const urlProblems = this.urlProblems(draft);
      const conflicts = issuer ? issuerConflicts(issuer, accepted) : [];
      if (!issuer || urlProblems.length > 0 || conflicts.length > 0) {
        // E.g. a configuration issuer added later with the same name or iss: configuration wins.
        this.logger.error(
          {
            issuer: row.name,
            problems: [...problems, ...urlProblems].map((p) => p.field),
            conflicts: conflicts.map((c) => `${c.kind}:${c.other}`),
          },
          'database trusted issuer ignored',
        );
        continue;
      }
      const full: TrustedIssuerConfig = {
        ...issuer,
        source: 'database',
        revision: row.revision,
      };
      accepted.push(full);
      stored.set(full.name, { issuer: full, createdAt: row.createdAt, updatedAt: row.updatedAt });
    }
    const change: IssuersChange = { added: [], updated: [], removed: [] };
    for (const [name, s] of stored) {
      const before = previous.get(name);
      if (!before) change.added.push(s.issuer);
      else if (before.issuer.revision !== s.issuer.revision) change.updated.push(s.issuer);
    }
    for (const [name, s] of previous) if (!stored.has(name)) change.removed.push(s.issuer);
    this.snapshot = buildSnapshot(this.configIssuers, stored);
    if (change.added.length + change.updated.length + change.removed.length === 0) return;
    this.logger.info(
      {
        added: change.added.map((i) => i.name),
        updated: change.updated.map((i) => i.name),
        removed: change.removed.map((i) => i.name),
      },
      'trusted issuers changed',
    );
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.logger.error({ err }, 'trusted issuer change listener failed');
      }
    }
  }

  /** Changes with every insert, update (revision) and delete; one cheap aggregate over a small table. */
  private async readFingerprint(): Promise<string> {
    const [row] = await dbCall(() =>
      this.repo.query<{ n: number; h: string | null }[]>(
        `SELECT count(*)::int AS n, md5(string_agg(id::text || ':' || revision::text, ',' ORDER BY id)) AS h FROM trusted_issuers`,
      ),
    );
    return createHash('sha256')
      .update(`${row?.n ?? 0}:${row?.h ?? ''}`)
      .digest('hex');
  }
}

function buildSnapshot(configIssuers: TrustedIssuerConfig[], stored: Snapshot['stored']): Snapshot {
  const all = [...configIssuers, ...[...stored.values()].map((s) => s.issuer)];
  return {
    byIss: new Map(all.map((i) => [i.issuer, i])),
    byName: new Map(all.map((i) => [i.name, i])),
    opaque: all.find((i) => i.opaque),
    all,
    stored,
  };
}

function draftOf(row: TrustedIssuerEntity): IssuerDraft {
  return {
    name: row.name,
    issuer: row.issuer,
    ...(row.jwksUrl !== null ? { jwksUrl: row.jwksUrl } : {}),
    ...(row.userinfoUrl !== null ? { userinfoUrl: row.userinfoUrl } : {}),
    opaque: row.opaque,
    audiences: row.audiences,
    audiencesRequired: row.audiencesRequired,
    algorithms: row.algorithms,
    clockToleranceSeconds: row.clockToleranceSeconds,
    ...(row.maxTokenAgeSeconds !== null ? { maxTokenAgeSeconds: row.maxTokenAgeSeconds } : {}),
    provisioning: row.provisioning,
    ...(row.fhirBase !== null ? { fhirBase: row.fhirBase } : {}),
    userinfoCredentials: row.userinfoCredentials,
    emailMatching: row.emailMatching,
  };
}

function applyPatch(current: IssuerDraft, patch: IssuerPatch): IssuerDraft {
  const merged: Record<string, unknown> = { ...current };
  const problems: string[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) {
      if (CLEARABLE.has(field)) delete merged[field];
      else problems.push(`${field}: cannot be null`);
      continue;
    }
    merged[field] = value;
  }
  if (problems.length > 0) throw IssuersErrors.invalid(problems);
  return merged as unknown as IssuerDraft;
}

function toRow(i: CheckedIssuer): Partial<TrustedIssuerEntity> {
  return {
    name: i.name,
    issuer: i.issuer,
    jwksUrl: i.jwksUrl ?? null,
    userinfoUrl: i.userinfoUrl ?? null,
    opaque: i.opaque,
    audiences: i.audiences,
    audiencesRequired: i.audiencesRequired,
    algorithms: i.algorithms,
    clockToleranceSeconds: i.clockToleranceSeconds,
    maxTokenAgeSeconds: i.maxTokenAgeSeconds ?? null,
    provisioning: i.provisioning,
    fhirBase: i.fhirBase ?? null,
    userinfoCredentials: i.userinfoCredentials,
    emailMatching: i.emailMatching,
  };
}

const CONSTRAINT_FIELDS: Record<string, IssuerField> = {
  uq_trusted_issuers_name: 'name',
  uq_trusted_issuers_iss: 'issuer',
  uq_trusted_issuers_opaque: 'opaque',
};

/** A unique violation is another node's concurrent write: the same 409 as the in-memory check. */
function mapUniqueViolation(candidate: CheckedIssuer) {
  return (err: unknown): never => {
    const constraint = uniqueViolation(err);
    const field = constraint ? CONSTRAINT_FIELDS[constraint] : undefined;
    if (field === 'name') throw IssuersErrors.nameTaken(candidate.name);
    if (field === 'issuer') throw IssuersErrors.issTaken();
    if (field === 'opaque') throw IssuersErrors.opaqueTaken();
    throw err;
  };
}

function issuerEvent(action: string, name: string): AuditDraft {
  return { action, targetType: 'issuer', targetId: name };
}
