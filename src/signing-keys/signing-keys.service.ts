import { type KeyObject, sign as cryptoSign } from 'node:crypto';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type CryptoKey, importJWK, type JWK } from 'jose';
import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import { ClusterBus, ClusterChannels } from 'src/cache/cluster-bus';
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
/** Catch-up reload for cluster messages this node missed. */
const RELOAD_INTERVAL_MS = 60_000;
/** A retired key stays published this long beyond the access token lifetime (clock skew, stragglers). */
const PUBLISH_MARGIN_SECONDS = 120;
const TYP_PATTERN = /^[A-Za-z0-9.+/-]{1,64}$/;

interface Signer {
  kid: string;
  alg: SigningKeyAlgorithm;
  key: KeyObject;
  /** Epoch ms. */
  createdAt: number;
  /** Encoded protected headers per `typ`, built once. */
  headers: Map<string, string>;
}

interface PublishedKey {
  kid: string;
  alg: SigningKeyAlgorithm;
  jwk: JWK;
  key: CryptoKey;
  /** Epoch ms; undefined for the active key. */
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
  retired_at: Date | null;
  publish_until: Date | null;
}

/**
 * Bridgekeeper's own token signing keys (SECURITY.md rule 10): asymmetric, private halves encrypted at
 * rest, at most one ACTIVE, rotated with overlap, published as a JWKS.
 *
 * Keys live in memory: `sign` never touches the database. Every node reloads when any node rotates
 * (cluster bus), every minute as a catch-up, and, rate-limited, when asked to verify an unknown kid.
 */
@Injectable()
export class SigningKeysService implements OnApplicationBootstrap, OnApplicationShutdown {
  private signer?: Signer;
  private published: PublishedKey[] = [];
  private inFlight?: Promise<void>;
  private queued?: Promise<void>;
  private lastKidReloadAt = 0;
  private lastKidReloadFailed = false;
  private timer?: NodeJS.Timeout;
  private ticking = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: SecretsService,
    private readonly bus: ClusterBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** After every module's init, so after the migrations (DatabaseModule's `onModuleInit`). */
  async onApplicationBootstrap(): Promise<void> {
    await this.ensureActiveKey();
    await this.load(true);
    this.bus.subscribe(ClusterChannels.signingKeys, (payload) => {
      const kid = (payload as { kid?: unknown } | null)?.kid;
      if (typeof kid === 'string' && kid === this.signer?.kid) return;
      this.reload().catch((err: unknown) => this.warn(err, 'signing key reload failed'));
    });
    const rotationMs = this.config.oauth.signingRotationSeconds * 1000;
    const tickMs =
      rotationMs > 0
        ? Math.min(RELOAD_INTERVAL_MS, Math.max(1000, rotationMs))
        : RELOAD_INTERVAL_MS;
    this.timer = setInterval(() => void this.tick(), tickMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Signs a JWT with the current key; header = { alg, kid, typ }. payload is given complete (iss, aud, exp...). */
  async sign(payload: Record<string, unknown>, typ: string): Promise<SignedToken> {
    const s = this.signer;
    if (!s) throw SigningKeysErrors.unavailable('no_signing_key');
    let header = s.headers.get(typ);
    if (header === undefined) {
      if (!TYP_PATTERN.test(typ))
        throw new TypeError('typ must be a short media type such as at+jwt');
      header = b64json({ alg: s.alg, kid: s.kid, typ });
      if (s.headers.size < 32) s.headers.set(typ, header);
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
      throw new TypeError('payload must be an object');
    const input = `${header}.${b64json(payload)}`;
    const signature = cryptoSign(
      'sha256',
      Buffer.from(input),
      s.alg === 'ES256' ? { key: s.key, dsaEncoding: 'ieee-p1363' } : s.key,
    );
    return { token: `${input}.${signature.toString('base64url')}`, kid: s.kid };
  }

  /** The public key for a kid, or undefined. Unknown kid → reload from DB at most once per 5 s (another node may have rotated), then answer. */
  async verificationKey(kid: string): Promise<VerificationKey | undefined> {
    const known = this.findPublished(kid);
    if (known) return known;
    if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) return undefined;
    const now = Date.now();
    if (now - this.lastKidReloadAt >= UNKNOWN_KID_RELOAD_MS) {
      this.lastKidReloadAt = now;
      try {
        await this.reload();
        this.lastKidReloadFailed = false;
      } catch (err) {
        this.lastKidReloadFailed = true;
        throw err;
      }
    } else if (this.inFlight) {
      await this.inFlight.catch(() => undefined);
    }
    const found = this.findPublished(kid);
    // A database that could not answer is not "no such key" (SECURITY.md rule 18).
    if (!found && this.lastKidReloadFailed) throw SigningKeysErrors.unavailable('reload_failed');
    return found;
  }

  /** Algorithms our keys use (for the validation allow-list). */
  algorithms(): SigningKeyAlgorithm[] {
    const now = Date.now();
    const algs = new Set<SigningKeyAlgorithm>();
    for (const p of this.published) if (live(p, now)) algs.add(p.alg);
    return [...algs];
  }

  /** Public JWKS: the current key and every retired key still within its publication window. */
  publicJwks(): { keys: JWK[] } {
    const now = Date.now();
    return { keys: this.published.filter((p) => live(p, now)).map((p) => ({ ...p.jwk })) };
  }

  /** Admin rotation: a new ACTIVE key; the old one stays published until the tokens it signed expire. */
  async rotate(): Promise<SigningKeyInfo> {
    const info = await this.rotateInternal(false);
    if (!info) throw SigningKeysErrors.unavailable('rotation_skipped');
    return info;
  }

  /** Every key, newest first (including retired keys past their publication window). */
  async list(): Promise<SigningKeyInfo[]> {
    const rows = await keysDb(() =>
      this.dataSource.query<KeyRow[]>(
        'SELECT kid, alg, status, created_at, retired_at, publish_until FROM signing_keys ORDER BY created_at DESC, kid',
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

  /** Creates the first key when there is none; two nodes starting together create one between them. */
  private async ensureActiveKey(): Promise<void> {
    const existing = await keysDb(() =>
      this.dataSource.query<KeyRow[]>("SELECT kid FROM signing_keys WHERE status = 'ACTIVE'"),
    );
    if (existing.length > 0) return;
    const fresh = await generateSigningKey(this.config.oauth.signingAlgorithm);
    const created = await keysDb(() =>
      this.dataSource.transaction(async (em) => {
        await em.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEYS_LOCK_KEY]);
        const again = await em.query<KeyRow[]>(
          "SELECT kid FROM signing_keys WHERE status = 'ACTIVE'",
        );
        return again.length > 0 ? undefined : this.insertActive(em, fresh);
      }),
    );
    if (created) this.logger.info({ kid: created.kid, alg: created.alg }, 'signing key created');
  }

  /**
   * Retires the ACTIVE key (published until tokens it signed have expired) and activates a new one, in
   * one transaction under the advisory lock. `scheduled`: only if the lock is free and the key is due.
   */
  private async rotateInternal(scheduled: boolean): Promise<SigningKeyInfo | undefined> {
    const fresh = await generateSigningKey(this.config.oauth.signingAlgorithm);
    const publishSeconds = this.config.oauth.accessTokenTtlSeconds + PUBLISH_MARGIN_SECONDS;
    const rotated = await keysDb(() =>
      this.dataSource.transaction(async (em) => {
        if (scheduled) {
          const [lock] = await em.query<{ locked: boolean }[]>(
            'SELECT pg_try_advisory_xact_lock($1) AS locked',
            [SIGNING_KEYS_LOCK_KEY],
          );
          if (!lock?.locked) return undefined;
          const [due] = await em.query<{ due: boolean }[]>(
            "SELECT created_at <= now() - make_interval(secs => $1) AS due FROM signing_keys WHERE status = 'ACTIVE'",
            [this.config.oauth.signingRotationSeconds],
          );
          if (due && !due.due) return undefined;
        } else {
          await em.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEYS_LOCK_KEY]);
        }
        const retired = await em.query<KeyRow[]>(
          "UPDATE signing_keys SET status = 'RETIRED', retired_at = now(), publish_until = now() + make_interval(secs => $1) WHERE status = 'ACTIVE' RETURNING kid",
          [publishSeconds],
        );
        const row = await this.insertActive(em, fresh);
        return { row, retired: retired.map((r) => r.kid) };
      }),
    );
    if (!rotated) return undefined;
    this.logger.info(
      { kid: rotated.row.kid, alg: rotated.row.alg, retired: rotated.retired, scheduled },
      'signing key rotated',
    );
    await this.reload();
    await this.bus.publish(ClusterChannels.signingKeys, { kid: rotated.row.kid });
    return toInfo(rotated.row);
  }

  private async insertActive(em: EntityManager, fresh: GeneratedSigningKey): Promise<KeyRow> {
    const encrypted = this.secrets.encrypt(
      JSON.stringify(fresh.privateJwk),
      privateKeyAad(fresh.kid),
    );
    const [row] = await em.query<KeyRow[]>(
      "INSERT INTO signing_keys (kid, alg, public_jwk, private_key_encrypted, status) VALUES ($1, $2, $3, $4, 'ACTIVE') RETURNING kid, alg, status, created_at, retired_at, publish_until",
      [fresh.kid, fresh.alg, JSON.stringify(fresh.publicJwk), encrypted],
    );
    return row;
  }

  /** One reload at a time; a request made during a reload gets one more after it (it may have read too early). */
  private reload(): Promise<void> {
    if (!this.inFlight) {
      this.inFlight = this.load(false).finally(() => (this.inFlight = undefined));
      return this.inFlight;
    }
    this.queued ??= this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.reload();
      });
    return this.queued;
  }

  /**
   * Reads the active key and every key still within its publication window. At start (`strict`) a key
   * that does not decrypt stops the node; later, the node logs it and keeps signing with the key it has.
   */
  private async load(strict: boolean): Promise<void> {
    const rows = await keysDb(() =>
      this.dataSource.query<KeyRow[]>(
        "SELECT kid, alg, status, public_jwk, private_key_encrypted, created_at, retired_at, publish_until FROM signing_keys WHERE status = 'ACTIVE' OR publish_until > now() ORDER BY (status = 'ACTIVE') DESC, created_at DESC",
      ),
    );
    const previous = new Map(this.published.map((p) => [p.kid, p]));
    const published: PublishedKey[] = [];
    for (const r of rows) {
      const active = r.status === 'ACTIVE';
      const known = previous.get(r.kid);
      published.push({
        kid: r.kid,
        alg: r.alg,
        jwk: known?.jwk ?? r.public_jwk,
        key: known?.key ?? ((await importJWK(r.public_jwk, r.alg)) as CryptoKey),
        ...(active ? {} : { publishUntil: new Date(r.publish_until ?? 0).getTime() }),
      });
    }
    const activeRow = rows.find((r) => r.status === 'ACTIVE');
    let signer = this.signer;
    if (activeRow && activeRow.kid !== signer?.kid) {
      try {
        signer = this.openSigner(activeRow);
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
  }

  private openSigner(row: KeyRow): Signer {
    let jwk: JWK;
    try {
      jwk = JSON.parse(
        this.secrets.decrypt(row.private_key_encrypted, privateKeyAad(row.kid)),
      ) as JWK;
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw SigningKeysErrors.unavailable('private_key_unreadable');
    }
    const key = importPrivateKey(jwk, row.public_jwk, row.kid, row.alg);
    return {
      kid: row.kid,
      alg: row.alg,
      key,
      createdAt: new Date(row.created_at).getTime(),
      headers: new Map(),
    };
  }

  /** Catch-up reload, then a scheduled rotation when the active key is due. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.reload();
      if (this.config.oauth.signingRotationSeconds > 0 && this.isDue())
        await this.rotateInternal(true);
    } catch (err) {
      this.warn(err, 'signing key maintenance failed; retrying later');
    } finally {
      this.ticking = false;
    }
  }

  /** A hint only, so the database is not asked every tick; it decides under the lock. */
  private isDue(): boolean {
    const s = this.signer;
    return !s || Date.now() - s.createdAt >= this.config.oauth.signingRotationSeconds * 1000;
  }

  private warn(err: unknown, msg: string): void {
    const e = err as { code?: unknown; reason?: unknown; message?: unknown };
    this.logger.warn({ err: { code: e?.code, reason: e?.reason } }, msg);
  }
}

function live(p: PublishedKey, now: number): boolean {
  return p.publishUntil === undefined || p.publishUntil > now;
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function toInfo(r: KeyRow): SigningKeyInfo {
  return {
    kid: r.kid,
    alg: r.alg,
    status: r.status,
    createdAt: new Date(r.created_at),
    retiredAt: r.retired_at ? new Date(r.retired_at) : null,
    publishUntil: r.publish_until ? new Date(r.publish_until) : null,
  };
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
