import type { AuditRequest } from 'src/audit/audit-context';
import { AuditService } from 'src/audit/audit.service';
import type { KeyObject } from 'node:crypto';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type CryptoKey, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import { ClusterBus, ClusterChannels } from 'src/cache/cluster-bus';
import { ReplicatedSnapshot } from 'src/cache/replicated-snapshot';
import { AppError } from 'src/common/errors/app-error';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { SecretsService } from 'src/secrets/secrets.service';
import {
  type GeneratedSigningKey,
  generateSigningKey,
  importPrivateKey,
  KID_PATTERN,
  privateKeyAad,
} from 'src/signing-keys/signing-key-material';
import {
  type SigningKeyAlgorithm,
  type SigningKeyStatus,
} from 'src/signing-keys/signing-key.entity';
import { NEXT_KEY_MIN_PUBLISHED_SECONDS } from 'src/signing-keys/signing-keys.constants';
import { SigningKeysErrors } from 'src/signing-keys/signing-keys.errors';

export interface SignedToken {
  token: string;
  kid: string;
}

/** A signing key as shown to admins: never any private material. */
export interface SigningKeyInfo {
  kid: string;
  alg: SigningKeyAlgorithm;
  status: SigningKeyStatus;
  createdAt: Date;
  activatedAt: Date | null;
  retiredAt: Date | null;
  publishUntil: Date | null;
}

export interface VerificationKey {
  key: CryptoKey | KeyObject;
  alg: SigningKeyAlgorithm;
}

/** Serialises key creation and rotation across nodes (arbitrary constant, distinct from migrations'). */
const SIGNING_KEYS_LOCK_KEY = 727_274_002;
/** Unknown kid: reload from the database at most this often (another node may have rotated). */
const UNKNOWN_KID_RELOAD_MS = 5_000;
/** Catch-up reload for cluster messages this node missed (faster while the bus may be missing them). */
const RELOAD_INTERVAL_MS = 60_000;
const RELOAD_WHILE_BEHIND_MS = 5_000;
/** A retired key stays published this long beyond the access token lifetime (clock skew, stragglers). */
const PUBLISH_MARGIN_SECONDS = 120;
const TYP_PATTERN = /^[A-Za-z0-9.+/-]{1,64}$/;

/**
 * What a rotation does, given how long the NEXT key has been published (undefined: there is none).
 * - `promote`: NEXT has been published for the JWKS max-age plus a margin: it becomes ACTIVE.
 * - `wait` (scheduled only): NEXT is too recent; a relying party may still hold a JWKS without it.
 * - `promote_early` (admin only): the emergency lever (suspected key compromise) takes effect at once;
 *   relying parties with an older cached JWKS refetch it on the unknown kid.
 * - `create_next` (scheduled only, no NEXT): publish a NEXT now, promote it on a later tick.
 * - `activate_fresh` (admin only, no NEXT): a brand-new key signs at once, as before NEXT keys existed.
 */
export type RotationPlan = 'promote' | 'promote_early' | 'wait' | 'create_next' | 'activate_fresh';

export function planRotation(
  scheduled: boolean,
  nextPublishedSeconds: number | undefined,
): RotationPlan {
  if (nextPublishedSeconds === undefined) return scheduled ? 'create_next' : 'activate_fresh';
  if (nextPublishedSeconds >= NEXT_KEY_MIN_PUBLISHED_SECONDS) return 'promote';
  return scheduled ? 'wait' : 'promote_early';
}

interface Signer {
  kid: string;
  alg: SigningKeyAlgorithm;
  key: CryptoKey;
  /** Epoch ms: when the key became ACTIVE. */
  activatedAt: number;
}

interface PublishedKey {
  kid: string;
  alg: SigningKeyAlgorithm;
  jwk: JWK;
  key: CryptoKey;
  /** Epoch ms; undefined for the ACTIVE and NEXT keys. */
  publishUntil?: number;
}

interface KeyRow {
  id: string;
  kid: string;
  alg: SigningKeyAlgorithm;
  public_jwk: JWK;
  private_key_encrypted: string;
  status: SigningKeyStatus;
  created_at: Date;
  activated_at: Date | null;
  retired_at: Date | null;
  publish_until: Date | null;
}

interface Rotated {
  /** The new ACTIVE key (absent for `create_next`). */
  active?: KeyRow;
  next: KeyRow;
  retired: string[];
  plan: RotationPlan;
  nextPublishedSeconds?: number;
}

const INFO_COLUMNS = 'kid, alg, status, created_at, activated_at, retired_at, publish_until';

/**
 * Bridgekeeper's own token signing keys (SECURITY.md rule 10): asymmetric, private halves encrypted at
 * rest, rotated with overlap, published as a JWKS. At most one key is ACTIVE (signs) and at most one
 * is NEXT (published and accepted, never signs): a rotation promotes the NEXT key, which relying parties
 * have had in their cached JWKS for at least its max-age, and publishes a new NEXT key.
 *
 * Keys live in memory: `sign` never touches the database. Every node reloads when any node rotates
 * (cluster bus), every minute as a catch-up, and, rate-limited, when asked to verify an unknown kid.
 */
@Injectable()
export class SigningKeysService implements OnApplicationBootstrap, OnApplicationShutdown {
  private signer?: Signer;
  /** Epoch ms at which the NEXT key was created (a hint for the schedule), if there is one. */
  private nextCreatedAt?: number;
  private published: PublishedKey[] = [];
  private readonly replica: ReplicatedSnapshot;
  /** The first load, at start, is strict: a key that does not decrypt stops the node. */
  private startingUp = false;
  private timer?: NodeJS.Timeout;
  private ticking = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: SecretsService,
    bus: ClusterBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly audit: AuditService,
  ) {
    this.replica = new ReplicatedSnapshot({
      name: 'signing keys',
      channel: ClusterChannels.signingKeys,
      bus,
      logger,
      load: () => this.load(this.startingUp),
      // A node that already signs with the announced key has nothing to learn.
      onMessage: (payload, fromThisNode) => {
        const kid = (payload as { kid?: unknown } | null)?.kid;
        return !fromThisNode && !(typeof kid === 'string' && kid === this.signer?.kid);
      },
      poll: { everyMs: RELOAD_INTERVAL_MS, whileBehindMs: RELOAD_WHILE_BEHIND_MS },
    });
  }

  /** After every module's init, so after the migrations (DatabaseModule's `onModuleInit`). */
  async onApplicationBootstrap(): Promise<void> {
    await this.ensureKeys();
    this.startingUp = true;
    try {
      await this.replica.start();
    } finally {
      this.startingUp = false;
    }
    const rotationMs = this.config.oauth.signingRotationSeconds * 1000;
    if (rotationMs > 0) {
      this.timer = setInterval(
        () => void this.tick(),
        Math.min(RELOAD_INTERVAL_MS, Math.max(1000, rotationMs)),
      );
      this.timer.unref();
    }
  }

  onApplicationShutdown(): void {
    this.replica.stop();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Signs a JWT with the current key (jose, like every JWT operation here); header = { alg, kid, typ }.
   * The payload is given complete (iss, aud, exp...). No database work: keys are held in memory.
   */
  async sign(payload: Record<string, unknown>, typ: string): Promise<SignedToken> {
    const s = this.signer;
    if (!s) throw SigningKeysErrors.unavailable('no_signing_key');
    if (!TYP_PATTERN.test(typ))
      throw new TypeError('typ must be a short media type such as at+jwt');
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
      throw new TypeError('payload must be an object');
    const token = await new SignJWT(payload as JWTPayload)
      .setProtectedHeader({ alg: s.alg, kid: s.kid, typ })
      .sign(s.key);
    return { token, kid: s.kid };
  }

  /** The public key for a kid, or undefined. Unknown kid → reload from DB at most once per 5 s (another node may have rotated), then answer. */
  async verificationKey(kid: string): Promise<VerificationKey | undefined> {
    const known = this.findPublished(kid);
    if (known) return known;
    if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) return undefined;
    await this.replica.reloadOnDemand(UNKNOWN_KID_RELOAD_MS);
    const found = this.findPublished(kid);
    // A database that could not answer is not "no such key" (SECURITY.md rule 18).
    if (!found && this.replica.lastLoadFailed) throw SigningKeysErrors.unavailable('reload_failed');
    return found;
  }

  /** Algorithms our keys use (for the validation allow-list). */
  algorithms(): SigningKeyAlgorithm[] {
    const now = Date.now();
    const algs = new Set<SigningKeyAlgorithm>();
    for (const p of this.published) if (live(p, now)) algs.add(p.alg);
    return [...algs];
  }

  /** Public JWKS: the ACTIVE key, the NEXT key, and every retired key still within its publication window. */
  publicJwks(): { keys: JWK[] } {
    const now = Date.now();
    return { keys: this.published.filter((p) => live(p, now)).map((p) => ({ ...p.jwk })) };
  }

  /**
   * Admin rotation, at once: the NEXT key becomes ACTIVE (even if published for less than the JWKS
   * max-age plus margin: this is the emergency lever; a warning is logged), a new NEXT key is published,
   * and the old ACTIVE key stays published until the tokens it signed expire.
   */
  async rotate(from?: AuditRequest): Promise<SigningKeyInfo> {
    const info = await this.rotateInternal(false, from);
    if (!info) throw SigningKeysErrors.unavailable('rotation_skipped');
    return info;
  }

  /**
   * Every key: the NEXT one, the ACTIVE one, then retired keys newest first (including those past their
   * publication window). Keys created in one transaction share `created_at`, so status decides first.
   */
  async list(): Promise<SigningKeyInfo[]> {
    const rows = await keysDb(() =>
      this.dataSource.query<KeyRow[]>(
        `SELECT ${INFO_COLUMNS} FROM signing_keys ORDER BY (status = 'NEXT') DESC, (status = 'ACTIVE') DESC, created_at DESC, kid`,
      ),
    );
    return rows.map(toInfo);
  }

  private findPublished(kid: string): VerificationKey | undefined {
    const now = Date.now();
    for (const p of this.published) {
      if (p.kid === kid) return live(p, now) ? { key: p.key, alg: p.alg } : undefined;
    }
    return undefined;
  }

  /**
   * Creates the ACTIVE key and the NEXT key when missing (first start; or a NEXT key missing from a
   * database of before NEXT keys). Two nodes starting together create one of each between them.
   */
  private async ensureKeys(): Promise<void> {
    const missing = async (q: (sql: string) => Promise<KeyRow[]>) => {
      const rows = await q("SELECT status FROM signing_keys WHERE status IN ('ACTIVE', 'NEXT')");
      return (['ACTIVE', 'NEXT'] as const).filter((st) => !rows.some((r) => r.status === st));
    };
    const wanted = await keysDb(() => missing((sql) => this.dataSource.query<KeyRow[]>(sql)));
    if (wanted.length === 0) return;
    const fresh = await Promise.all(wanted.map(() => this.generate()));
    const created = await keysDb(() =>
      this.dataSource.transaction(async (em) => {
        await em.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEYS_LOCK_KEY]);
        const rows: KeyRow[] = [];
        for (const status of await missing((sql) => em.query<KeyRow[]>(sql)))
          rows.push(await this.insertKey(em, fresh.pop() ?? (await this.generate()), status));
        return rows;
      }),
    );
    for (const r of created)
      this.logger.info({ kid: r.kid, alg: r.alg, status: r.status }, 'signing key created');
  }

  /**
   * One rotation, in one transaction under the advisory lock (see `planRotation`): the old ACTIVE key is
   * retired (published until tokens it signed have expired), the NEXT key becomes ACTIVE, a new NEXT key
   * is created. `scheduled`: only if the lock is free and the ACTIVE key is due.
   */
  private async rotateInternal(
    scheduled: boolean,
    from?: AuditRequest,
  ): Promise<SigningKeyInfo | undefined> {
    const fresh = await this.generate();
    const publishSeconds = this.config.oauth.accessTokenTtlSeconds + PUBLISH_MARGIN_SECONDS;
    const rotated = await keysDb(() =>
      this.dataSource.transaction(async (em): Promise<Rotated | undefined> => {
        if (scheduled) {
          const [lock] = await em.query<{ locked: boolean }[]>(
            'SELECT pg_try_advisory_xact_lock($1) AS locked',
            [SIGNING_KEYS_LOCK_KEY],
          );
          if (!lock?.locked) return undefined;
          const [due] = await em.query<{ due: boolean }[]>(
            "SELECT coalesce(activated_at, created_at) <= now() - make_interval(secs => $1) AS due FROM signing_keys WHERE status = 'ACTIVE'",
            [this.config.oauth.signingRotationSeconds],
          );
          if (due && !due.due) return undefined;
        } else {
          await em.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEYS_LOCK_KEY]);
        }
        const [next] = await em.query<{ kid: string; age: number }[]>(
          "SELECT kid, extract(epoch FROM now() - created_at)::float8 AS age FROM signing_keys WHERE status = 'NEXT'",
        );
        const nextPublishedSeconds = next ? Number(next.age) : undefined;
        const plan = planRotation(scheduled, nextPublishedSeconds);
        if (plan === 'wait') return undefined;
        if (plan === 'create_next') {
          const created = await this.insertKey(em, fresh, 'NEXT');
          return { next: created, retired: [], plan };
        }
        const retired = updatedRows(
          await em.query<[KeyRow[], number]>(
            "UPDATE signing_keys SET status = 'RETIRED', retired_at = now(), publish_until = now() + make_interval(secs => $1) WHERE status = 'ACTIVE' RETURNING kid",
            [publishSeconds],
          ),
        );
        let active: KeyRow;
        if (next) {
          [active] = updatedRows(
            await em.query<[KeyRow[], number]>(
              `UPDATE signing_keys SET status = 'ACTIVE', activated_at = now() WHERE kid = $1 RETURNING ${INFO_COLUMNS}`,
              [next.kid],
            ),
          );
        } else {
          active = await this.insertKey(em, await this.generate(), 'ACTIVE');
        }
        const created = await this.insertKey(em, fresh, 'NEXT');
        await this.audit.record(
          em,
          {
            action: scheduled ? 'signing_key.rotate.scheduled' : 'signing_key.rotate',
            targetType: 'signing_key',
            targetId: active.kid,
            details: { next: created.kid, retired: retired.map((r) => r.kid).join(' ') },
          },
          from,
        );
        return {
          active,
          next: created,
          retired: retired.map((r) => r.kid),
          plan,
          nextPublishedSeconds,
        };
      }),
    );
    if (!rotated) return undefined;
    const facts = {
      kid: rotated.active?.kid,
      next: rotated.next.kid,
      alg: rotated.next.alg,
      retired: rotated.retired,
      scheduled,
      plan: rotated.plan,
      nextPublishedSeconds:
        rotated.nextPublishedSeconds === undefined
          ? undefined
          : Math.floor(rotated.nextPublishedSeconds),
    };
    if (rotated.plan === 'promote_early' || rotated.plan === 'activate_fresh') {
      this.logger.warn(
        { ...facts, requiredSeconds: NEXT_KEY_MIN_PUBLISHED_SECONDS },
        'signing key rotated before the new key had been published for the JWKS max-age: relying parties with an older cached JWKS must refetch it to verify new tokens',
      );
    } else {
      this.logger.info(facts, rotated.active ? 'signing key rotated' : 'next signing key created');
    }
    await this.replica.changed({ kid: (rotated.active ?? rotated.next).kid });
    return toInfo(rotated.active ?? rotated.next);
  }

  private generate(): Promise<GeneratedSigningKey> {
    return generateSigningKey(this.config.oauth.signingAlgorithm);
  }

  private async insertKey(
    em: EntityManager,
    fresh: GeneratedSigningKey,
    status: 'ACTIVE' | 'NEXT',
  ): Promise<KeyRow> {
    const encrypted = this.secrets.encrypt(
      JSON.stringify(fresh.privateJwk),
      privateKeyAad(fresh.kid),
    );
    const [row] = await em.query<KeyRow[]>(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_encrypted, status, activated_at) VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 = 'ACTIVE' THEN now() END) RETURNING ${INFO_COLUMNS}`,
      [fresh.kid, fresh.alg, JSON.stringify(fresh.publicJwk), encrypted, status],
    );
    return row;
  }

  /** Reloads the keys now (coalesced with a reload in flight); e2e tests call it too. */
  private reload(): Promise<void> {
    return this.replica.reload();
  }

  /**
   * Reads the ACTIVE and NEXT keys and every key still within its publication window. At start
   * (`strict`) an ACTIVE or NEXT key that does not decrypt stops the node; later, the node logs it and
   * keeps signing with the key it has.
   */
  private async load(strict: boolean): Promise<void> {
    const rows = await keysDb(() =>
      this.dataSource.query<KeyRow[]>(
        `SELECT ${INFO_COLUMNS}, public_jwk, private_key_encrypted FROM signing_keys WHERE status IN ('ACTIVE', 'NEXT') OR publish_until > now() ORDER BY (status = 'ACTIVE') DESC, (status = 'NEXT') DESC, created_at DESC`,
      ),
    );
    const previous = new Map(this.published.map((p) => [p.kid, p]));
    const published: PublishedKey[] = [];
    for (const r of rows) {
      const current = r.status === 'ACTIVE' || r.status === 'NEXT';
      const known = previous.get(r.kid);
      published.push({
        kid: r.kid,
        alg: r.alg,
        jwk: known?.jwk ?? r.public_jwk,
        key: known?.key ?? ((await importJWK(r.public_jwk, r.alg)) as CryptoKey),
        ...(current ? {} : { publishUntil: new Date(r.publish_until ?? 0).getTime() }),
      });
    }
    const activeRow = rows.find((r) => r.status === 'ACTIVE');
    const nextRow = rows.find((r) => r.status === 'NEXT');
    if (strict && nextRow) {
      try {
        await this.openSigner(nextRow);
      } catch (err) {
        throw new Error(
          `the next signing key ${nextRow.kid} cannot be used: it does not decrypt with this node's bridgekeeper.secrets.key (not the key of the node that created it, or altered data)`,
          { cause: err },
        );
      }
    }
    let signer = this.signer;
    if (activeRow && activeRow.kid !== signer?.kid) {
      try {
        signer = await this.openSigner(activeRow);
      } catch (err) {
        if (strict)
          throw new Error(
            `the active signing key ${activeRow.kid} cannot be used: it does not decrypt with this node's bridgekeeper.secrets.key (not the key of the node that created it, or altered data)`,
            { cause: err },
          );
        this.logger.error(
          { kid: activeRow.kid, code: (err as AppError).code },
          'the active signing key cannot be used here (is bridgekeeper.secrets.key the same on every node?)',
        );
      }
    }
    if (!activeRow && strict) throw SigningKeysErrors.unavailable('no_active_key');
    this.published = published;
    this.signer = signer;
    this.nextCreatedAt = nextRow ? new Date(nextRow.created_at).getTime() : undefined;
  }

  private async openSigner(row: KeyRow): Promise<Signer> {
    let jwk: JWK;
    try {
      jwk = JSON.parse(
        this.secrets.decrypt(row.private_key_encrypted, privateKeyAad(row.kid)),
      ) as JWK;
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw SigningKeysErrors.unavailable('private_key_unreadable');
    }
    const key = await importPrivateKey(jwk, row.public_jwk, row.kid, row.alg);
    return {
      kid: row.kid,
      alg: row.alg,
      key,
      activatedAt: new Date(row.activated_at ?? row.created_at).getTime(),
    };
  }

  /** Scheduled rotation: reload (another node may have rotated), then rotate if the active key is due. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.reload();
      if (this.isDue()) await this.rotateInternal(true);
    } catch (err) {
      this.warn(err, 'signing key maintenance failed; retrying later');
    } finally {
      this.ticking = false;
    }
  }

  /** A hint only, so the database is not asked every tick; it decides under the lock. */
  private isDue(): boolean {
    const s = this.signer;
    const now = Date.now();
    if (s && now - s.activatedAt < this.config.oauth.signingRotationSeconds * 1000) return false;
    return (
      this.nextCreatedAt === undefined ||
      now - this.nextCreatedAt >= NEXT_KEY_MIN_PUBLISHED_SECONDS * 1000
    );
  }

  private warn(err: unknown, msg: string): void {
    const e = err as { code?: unknown; reason?: unknown; message?: unknown };
    this.logger.warn({ err: { code: e?.code, reason: e?.reason } }, msg);
  }
}

function live(p: PublishedKey, now: number): boolean {
  return p.publishUntil === undefined || p.publishUntil > now;
}

function toInfo(r: KeyRow): SigningKeyInfo {
  return {
    kid: r.kid,
    alg: r.alg,
    status: r.status,
    createdAt: new Date(r.created_at),
    activatedAt: r.activated_at ? new Date(r.activated_at) : null,
    retiredAt: r.retired_at ? new Date(r.retired_at) : null,
    publishUntil: r.publish_until ? new Date(r.publish_until) : null,
  };
}

/** The rows of an `UPDATE ... RETURNING` (TypeORM's postgres driver answers `[rows, affected]`). */
function updatedRows<T>(result: [T[], number]): T[] {
  return result[0];
}

/** Any database failure here is a 503 (never a 500, never "no key"). */
async function keysDb<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw SigningKeysErrors.unavailable('signing_keys_database', err);
  }
}
