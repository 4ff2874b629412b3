import type { AuditRequest } from 'src/audit/audit-context';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { Brackets, type EntityManager, In, type Repository } from 'typeorm';
import { ActivityMarks } from 'src/actors/activity-marks';
import { ActorEntity, type ActorStatus } from 'src/actors/actor.entity';
import { type ActorSnapshot, toSnapshot } from 'src/actors/actor-snapshot';
import { ActorsErrors } from 'src/actors/actors.errors';
import { AuditService } from 'src/audit/audit.service';
import { CacheKeys } from 'src/cache/cache-keys';
import { CacheService } from 'src/cache/cache.service';
import type { ProfileClaims } from 'src/common/auth/profile-claims';
import { MicroBatcher } from 'src/common/batching/micro-batcher';
import { ADMIN_ROLE } from 'src/common/decorators/roles.decorator';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import { dbCall } from 'src/common/errors/db-errors';
import type { AppConfig, Provisioning } from 'src/config/config.types';
import { MetricsService } from 'src/metrics/metrics.service';
import { decodeCursor, type KeysetCursor, keysetPage } from 'src/common/pagination/keyset';

export interface ActorPage {
  items: { cursor: string; actor: ActorSnapshot }[];
  hasNextPage: boolean;
  totalCount: number;
}

export interface ActorListQuery {
  first: number;
  after?: string;
  issuer?: string;
  status?: ActorStatus;
  /** Any of email, name, preferred username or subject contains it (ignoring case). */
  search?: string;
  /** Each contains its value, ignoring case (all given must match). */
  subject?: string;
  email?: string;
  /** Name or preferred username. */
  name?: string;
}

interface UpsertItem {
  issuerName: string;
  subject: string;
  profile: ProfileClaims;
}

/** The issuer name of client applications' own principals: never a valid trusted-issuer name. */
export const CLIENT_PRINCIPAL_NAMESPACE = 'bridgekeeper:clients';

/** Concurrent upsert statements (below the pool size, leaving connections for everything else). */
const UPSERT_CONCURRENCY = 4;
const UPSERT_MAX_BATCH = 200;

/** How long an actor snapshot may live in the cache; every change also invalidates it at once. */
const SNAPSHOT_TTL_MS = 10 * 60 * 1000;
/** Covers the (normally millisecond) gap between a `resolve` reading a row and caching it. */
const STALE_WRITE_WINDOW_MS = 2_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class ActorsService {
  private readonly bootstrapAdmins: Set<string>;
  private readonly upserts = new MicroBatcher<UpsertItem, ActorEntity>(
    (items) => this.upsertMany(items),
    UPSERT_CONCURRENCY,
    UPSERT_MAX_BATCH,
  );
  /** When this node last recorded activity per actor (bounded), so a busy actor is written rarely. */
  private readonly activity: ActivityMarks;
  private readonly identityKeys = new WeakMap<
    object,
    { issuerName: string; subject: string; key: string }
  >();
  private readonly disabledListeners: ((
    actor: ActorSnapshot,
    from?: AuditRequest,
  ) => Promise<void>)[] = [];

  constructor(
    @InjectRepository(ActorEntity) private readonly repo: Repository<ActorEntity>,
    private readonly cache: CacheService,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.bootstrapAdmins = new Set(config.admins.map((a) => `${a.issuer}\u0000${a.subject}`));
    this.activity = new ActivityMarks(config.actors.lastSeenIntervalSeconds * 1000);
  }

  /**
   * The actor for a verified identity. `jit` creates it on first sight (exactly once, even under a burst
   * of concurrent first requests: single-flight here, `INSERT … ON CONFLICT` across nodes); `existing`
   * only finds it. When `profileChanged` is possible (a freshly verified token), stored claims are
   * refreshed if they differ. A database failure is a 503, never "no such actor".
   */
  async resolve(
    issuerName: string,
    subject: string,
    profile: ProfileClaims,
    provisioning: Provisioning,
    freshToken: boolean,
  ): Promise<ActorSnapshot> {
    const key = this.identityKey(issuerName, subject, profile);
    const cached = await this.cache.get<ActorSnapshot>(key);
    if (cached && (!freshToken || sameProfile(cached, profile))) return cached;
    return this.cache.singleFlight(key, async () => {
      const entity = await dbCall(() =>
        provisioning === 'jit'
          ? this.upsert(issuerName, subject, profile)
          : this.updateExisting(issuerName, subject, profile),
      );
      if (!entity) throw ActorsErrors.notProvisioned();
      const snapshot = toSnapshot(entity);
      await this.cache.set(key, snapshot, SNAPSHOT_TTL_MS);
      return snapshot;
    });
  }

  /**
   * The cache key of an identity, remembered per claims object: a token verified before brings the same
   * (cached) claims object on every request, so its subject is hashed once, not per request. A WeakMap:
   * an entry lives only as long as the claims it belongs to.
   */
  private identityKey(issuerName: string, subject: string, profile: object): string {
    const known = this.identityKeys.get(profile);
    if (known && known.issuerName === issuerName && known.subject === subject) return known.key;
    const key = CacheKeys.actorByIdentity(issuerName, subject);
    this.identityKeys.set(profile, { issuerName, subject, key });
    return key;
  }

  /** Roles from the database plus ADMIN for identities listed in `bridgekeeper.auth.admins`. */
  effectiveRoles(actor: Pick<ActorSnapshot, 'issuerName' | 'subject' | 'roles'>): string[] {
    if (!this.bootstrapAdmins.has(`${actor.issuerName}\u0000${actor.subject}`)) return actor.roles;
    return actor.roles.includes(ADMIN_ROLE) ? actor.roles : [...actor.roles, ADMIN_ROLE];
  }

  /**
   * Records activity at most once per `actors.last.seen.interval.seconds` per actor, off the request path.
   */
  touch(actor: ActorSnapshot): void {
    const now = Date.now();
    if (
      !this.activity.shouldWrite(
        actor.id,
        () => (actor.lastSeenAt ? Date.parse(actor.lastSeenAt) : 0),
        now,
      )
    )
      return;
    const intervalMs = this.config.actors.lastSeenIntervalSeconds * 1000;
    const seenAt = new Date(now);
    this.repo
      .createQueryBuilder()
      .update(ActorEntity)
      .set({ lastSeenAt: seenAt, updatedAt: () => '"updated_at"' })
      .where('id = :id', { id: actor.id })
      .andWhere('(last_seen_at IS NULL OR last_seen_at < :threshold)', {
        threshold: new Date(now - intervalMs),
      })
      .execute()
      // Remembered locally, never written back to the shared cache: a snapshot written here could
      // resurrect a status an admin changed meanwhile.
      .then(() => this.activity.written(actor.id, now))
      .catch((err: unknown) => {
        this.activity.failed(actor.id);
        this.logger.warn(
          { err: { message: (err as Error).message } },
          'could not record last seen',
        );
      });
  }

  /**
   * The actor behind one of Bridgekeeper's own tokens (`sub` = actor id), cached like `resolve` and
   * invalidated with it on every status or role change. Unknown → 401, never provisioned.
   */
  async snapshotById(id: string): Promise<ActorSnapshot> {
    if (!UUID.test(id)) throw ActorsErrors.notProvisioned();
    const key = CacheKeys.actorById(id.toLowerCase());
    const cached = await this.cache.get<ActorSnapshot>(key);
    if (cached) return cached;
    return this.cache.singleFlight(key, async () => {
      const e = await dbCall(() => this.repo.findOneBy({ id }));
      if (!e) throw ActorsErrors.notProvisioned();
      const snapshot = toSnapshot(e);
      await this.cache.set(key, snapshot, SNAPSHOT_TTL_MS);
      return snapshot;
    });
  }

  /**
   * Creates the actor that is a client application's own principal, inside the caller's transaction.
   * Its issuer name is a namespace no trusted issuer can have (names are letters and digits only).
   */
  async createServicePrincipal(
    manager: EntityManager,
    subject: string,
    name: string,
    roles: string[],
  ): Promise<ActorSnapshot> {
    const repo = manager.getRepository(ActorEntity);
    const saved = await repo.save(
      repo.create({
        issuerName: CLIENT_PRINCIPAL_NAMESPACE,
        subject,
        name,
        roles: [...new Set(roles)].sort(),
      }),
    );
    const row = await repo.findOneByOrFail({ id: saved.id });
    return toSnapshot(row);
  }

  /**
   * The principal of a built-in client, created if missing (`INSERT … ON CONFLICT DO NOTHING`, so nodes
   * starting together make one), inside the caller's transaction.
   */
  async ensureServicePrincipal(
    manager: EntityManager,
    subject: string,
    name: string,
  ): Promise<ActorSnapshot> {
    const repo = manager.getRepository(ActorEntity);
    await repo
      .createQueryBuilder()
      .insert()
      .values({ issuerName: CLIENT_PRINCIPAL_NAMESPACE, subject, name, roles: [] })
      .orIgnore()
      .execute();
    const row = await repo.findOneByOrFail({ issuerName: CLIENT_PRINCIPAL_NAMESPACE, subject });
    return toSnapshot(row);
  }

  /**
   * Creates an actor of a given identity inside the caller's transaction (a local account's actor:
   * issuer `bridgekeeper`, subject = the account id). Fails on an existing identity.
   */
  async createInTransaction(
    manager: EntityManager,
    a: {
      issuerName: string;
      subject: string;
      email: string | null;
      name: string | null;
      preferredUsername: string | null;
      roles: string[];
    },
  ): Promise<ActorSnapshot> {
    const repo = manager.getRepository(ActorEntity);
    const saved = await repo.save(
      repo.create({
        issuerName: a.issuerName,
        subject: a.subject,
        email: a.email,
        emailVerified: a.email === null ? null : false,
        name: a.name,
        preferredUsername: a.preferredUsername,
        roles: [...new Set(a.roles)].sort(),
      }),
    );
    this.metrics.actorsProvisioned.inc({ issuer: a.issuerName });
    return toSnapshot(await repo.findOneByOrFail({ id: saved.id }));
  }

  /**
   * Whether an administrator exists: an active actor with the ADMIN role, or an identity listed in
   * `bridgekeeper.auth.admins`. Inside a transaction when `manager` is given.
   */
  async hasAdmin(manager?: EntityManager): Promise<boolean> {
    if (this.bootstrapAdmins.size > 0) return true;
    const repo = manager ? manager.getRepository(ActorEntity) : this.repo;
    return dbCall(() =>
      repo
        .createQueryBuilder('a')
        .where(':role = ANY(a.roles)', { role: ADMIN_ROLE })
        .andWhere("a.status = 'ACTIVE'")
        .getExists(),
    );
  }

  /** The actor for an identity, read straight from the database: never creates, updates or caches. */
  async findByIdentity(issuerName: string, subject: string): Promise<ActorSnapshot | null> {
    const e = await dbCall(() => this.repo.findOneBy({ issuerName, subject }));
    return e ? toSnapshot(e) : null;
  }

  /** Actors of one issuer whose stored email (case-insensitive) is verified; at most `limit`. */
  async findByVerifiedEmail(
    issuerName: string,
    email: string,
    limit: number,
  ): Promise<ActorSnapshot[]> {
    const rows = await dbCall(() =>
      this.repo
        .createQueryBuilder('a')
        .where('a.issuer_name = :issuerName', { issuerName })
        .andWhere('lower(a.email) = :email', { email: email.toLowerCase() })
        .andWhere('a.email_verified = true')
        .limit(limit)
        .getMany(),
    );
    return rows.map(toSnapshot);
  }

  async findById(id: string): Promise<ActorSnapshot | null> {
    if (!UUID.test(id)) throw ActorsErrors.invalidId();
    const e = await dbCall(() => this.repo.findOneBy({ id }));
    return e ? toSnapshot(e) : null;
  }

  /** Actors by id, in no particular order (for DataLoaders). */
  async findByIds(ids: readonly string[]): Promise<ActorSnapshot[]> {
    const valid = ids.filter((id) => UUID.test(id));
    if (valid.length === 0) return [];
    const rows = await dbCall(() => this.repo.findBy({ id: In(valid) }));
    return rows.map(toSnapshot);
  }

  async list(q: ActorListQuery): Promise<ActorPage> {
    const qb = this.repo.createQueryBuilder('a');
    if (q.issuer) qb.andWhere('a.issuer_name = :issuer', { issuer: q.issuer });
    if (q.status) qb.andWhere('a.status = :status', { status: q.status });
    const contains = (param: string, columns: string[], value: string | undefined): void => {
      if (!value) return;
      const pattern = `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere(
        new Brackets((w) => {
          for (const column of columns)
            w.orWhere(`a.${column} ILIKE :${param}`, { [param]: pattern });
        }),
      );
    };
    contains('search', ['email', 'name', 'preferred_username', 'subject'], q.search);
    contains('subject', ['subject'], q.subject);
    contains('email', ['email'], q.email);
    contains('name', ['name', 'preferred_username'], q.name);
    const totalCount = await dbCall(() => qb.clone().getCount());
    let after: KeysetCursor | undefined;
    if (q.after) {
      after = decodeCursor(q.after);
      if (!after) throw ActorsErrors.invalidCursor();
    }
    const page = await dbCall(() => keysetPage(qb, 'a', q.first, after));
    return {
      items: page.items.map(({ cursor, entity }) => ({ cursor, actor: toSnapshot(entity) })),
      hasNextPage: page.hasNextPage,
      totalCount,
    };
  }

  /** People and identities first seen since `since` (clients' own principals not counted). */
  async countCreatedSince(since: Date): Promise<number> {
    return dbCall(() =>
      this.repo
        .createQueryBuilder('a')
        .where('a.created_at >= :since', { since })
        .andWhere('a.issuer_name <> :clients', { clients: CLIENT_PRINCIPAL_NAMESPACE })
        .getCount(),
    );
  }

  /**
   * Enables or disables an actor. Disabling also ends what hangs on the actor in other modules (its
   * grants and browser sessions, through `onDisabled` listeners), so that enabling it again never
   * revives an old session: the person signs in anew.
   */
  async setStatus(id: string, status: ActorStatus, from?: AuditRequest): Promise<ActorSnapshot> {
    const actor = await this.updateAndInvalidate(
      id,
      { status },
      status === 'DISABLED' ? 'actor.disable' : 'actor.enable',
      from,
    );
    if (status === 'DISABLED')
      for (const listener of this.disabledListeners) await listener(actor, from);
    return actor;
  }

  /**
   * Registers a listener called after an actor is disabled (awaited, in registration order; an error
   * reaches the caller, the actor stays disabled). Listeners must be idempotent.
   */
  onDisabled(listener: (actor: ActorSnapshot, from?: AuditRequest) => Promise<void>): void {
    this.disabledListeners.push(listener);
  }

  setRoles(id: string, roles: string[], from?: AuditRequest): Promise<ActorSnapshot> {
    const sorted = [...new Set(roles)].sort();
    return this.updateAndInvalidate(id, { roles: sorted }, 'actor.roles.set', from, {
      roles: sorted.join(' '),
    });
  }

  /** One admin change of an actor, audited in its transaction (`action`). */
  private async updateAndInvalidate(
    id: string,
    patch: Partial<ActorEntity>,
    action: string,
    from: AuditRequest | undefined,
    details?: Record<string, string>,
  ): Promise<ActorSnapshot> {
    if (!UUID.test(id)) throw ActorsErrors.invalidId();
    const row = await dbCall(() =>
      this.repo.manager.transaction(async (m) => {
        const result = await m
          .createQueryBuilder()
          .update(ActorEntity)
          .set(patch)
          .where('id = :id', { id })
          .returning('*')
          .execute();
        const updated = (result.raw as Record<string, unknown>[])[0];
        if (!updated) return undefined;
        await this.audit.record(m, { action, targetType: 'actor', targetId: id, details }, from);
        return updated;
      }),
    );
    if (!row) throw ActorsErrors.notFound();
    const entity = this.repo.create(rawToEntity(row));
    // After the commit: the next request on any node (shared Redis) or this node sees the change. A
    // request that read the row just before this update may still write its older snapshot back to the
    // cache; a second delete shortly after closes that window.
    const keys = [
      CacheKeys.actorByIdentity(entity.issuerName, entity.subject),
      CacheKeys.actorById(entity.id),
    ];
    await this.cache.del(...keys);
    setTimeout(() => void this.cache.del(...keys), STALE_WRITE_WINDOW_MS).unref();
    return toSnapshot(entity);
  }

  /** Creates or refreshes one actor; concurrent calls share multi-row statements (see MicroBatcher). */
  private upsert(issuerName: string, subject: string, p: ProfileClaims): Promise<ActorEntity> {
    return this.upserts.submit({ issuerName, subject, profile: p });
  }

  /**
   * One `INSERT … ON CONFLICT` for many identities: new ones are created exactly once even across nodes,
   * changed profiles are refreshed, absent claims never erase stored ones. Rows left unchanged are not
   * returned by the upsert and are read back in the same round of statements.
   */
  private async upsertMany(items: UpsertItem[]): Promise<ActorEntity[]> {
    const unique = new Map<string, UpsertItem>();
    for (const it of items) unique.set(`${it.issuerName}\u0000${it.subject}`, it);
    const rows = [...unique.values()];
    const col = (f: (it: UpsertItem) => unknown) => rows.map(f);
    const upserted = (await this.repo.query(
      `INSERT INTO actors (issuer_name, subject, email, email_verified, name, given_name, family_name, preferred_username, last_seen_at)
       SELECT i, s, e, ev, n, gn, fn, pu, now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::text[], $6::text[], $7::text[], $8::text[])
           AS t(i, s, e, ev, n, gn, fn, pu)
       ON CONFLICT ON CONSTRAINT uq_actors_issuer_subject DO UPDATE SET
         email = COALESCE(EXCLUDED.email, actors.email),
         email_verified = COALESCE(EXCLUDED.email_verified, actors.email_verified),
         name = COALESCE(EXCLUDED.name, actors.name),
         given_name = COALESCE(EXCLUDED.given_name, actors.given_name),
         family_name = COALESCE(EXCLUDED.family_name, actors.family_name),
         preferred_username = COALESCE(EXCLUDED.preferred_username, actors.preferred_username),
         updated_at = now()
       WHERE (actors.email, actors.email_verified, actors.name, actors.given_name, actors.family_name, actors.preferred_username)
         IS DISTINCT FROM
         (COALESCE(EXCLUDED.email, actors.email), COALESCE(EXCLUDED.email_verified, actors.email_verified),
          COALESCE(EXCLUDED.name, actors.name), COALESCE(EXCLUDED.given_name, actors.given_name),
          COALESCE(EXCLUDED.family_name, actors.family_name),
          COALESCE(EXCLUDED.preferred_username, actors.preferred_username))
       RETURNING *, (xmax = 0) AS inserted`,
      [
        col((r) => r.issuerName),
        col((r) => r.subject),
        col((r) => r.profile.email ?? null),
        col((r) => r.profile.email_verified ?? null),
        col((r) => r.profile.name ?? null),
        col((r) => r.profile.given_name ?? null),
        col((r) => r.profile.family_name ?? null),
        col((r) => r.profile.preferred_username ?? null),
      ],
    )) as (Record<string, unknown> & { inserted: boolean })[];
    const found = new Map<string, ActorEntity>();
    for (const row of upserted) {
      if (row.inserted) this.metrics.actorsProvisioned.inc({ issuer: row.issuer_name as string });
      found.set(
        `${row.issuer_name as string}\u0000${row.subject as string}`,
        this.repo.create(rawToEntity(row)),
      );
    }
    const unchanged = rows.filter((r) => !found.has(`${r.issuerName}\u0000${r.subject}`));
    if (unchanged.length > 0) {
      const existing = (await this.repo.query(
        `SELECT a.* FROM actors a
           JOIN unnest($1::text[], $2::text[]) AS t(i, s) ON a.issuer_name = t.i AND a.subject = t.s`,
        [unchanged.map((r) => r.issuerName), unchanged.map((r) => r.subject)],
      )) as Record<string, unknown>[];
      for (const row of existing) {
        found.set(
          `${row.issuer_name as string}\u0000${row.subject as string}`,
          this.repo.create(rawToEntity(row)),
        );
      }
    }
    return items.map((it) => {
      const entity = found.get(`${it.issuerName}\u0000${it.subject}`);
      if (!entity) throw new Error('actor vanished between upsert and select');
      return entity;
    });
  }

  private async updateExisting(
    issuerName: string,
    subject: string,
    p: ProfileClaims,
  ): Promise<ActorEntity | null> {
    const existing = await this.repo.findOneBy({ issuerName, subject });
    if (!existing || sameProfile(toSnapshot(existing), p)) return existing;
    return this.upsert(issuerName, subject, p);
  }
}

/** True when every claim the token carries already matches what is stored. */
function sameProfile(a: ActorSnapshot, p: ProfileClaims): boolean {
  return (
    (p.email === undefined || p.email === a.email) &&
    (p.email_verified === undefined || p.email_verified === a.emailVerified) &&
    (p.name === undefined || p.name === a.name) &&
    (p.given_name === undefined || p.given_name === a.givenName) &&
    (p.family_name === undefined || p.family_name === a.familyName) &&
    (p.preferred_username === undefined || p.preferred_username === a.preferredUsername)
  );
}

function rawToEntity(r: Record<string, unknown>): Partial<ActorEntity> {
  return {
    id: r.id as string,
    issuerName: r.issuer_name as string,
    subject: r.subject as string,
    email: (r.email as string | null) ?? null,
    emailVerified: (r.email_verified as boolean | null) ?? null,
    name: (r.name as string | null) ?? null,
    givenName: (r.given_name as string | null) ?? null,
    familyName: (r.family_name as string | null) ?? null,
    preferredUsername: (r.preferred_username as string | null) ?? null,
    roles: (r.roles as string[]) ?? [],
    status: r.status as ActorStatus,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
    lastSeenAt: (r.last_seen_at as Date | null) ?? null,
  };
}
