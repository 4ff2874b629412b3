import { randomBytes } from 'node:crypto';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { IsNull, type Repository } from 'typeorm';
import { ActorsService } from 'src/actors/actors.service';
import { BrowserSessionEntity } from 'src/browser-sessions/browser-session.entity';
import { CacheKeys } from 'src/cache/cache-keys';
import { CacheService } from 'src/cache/cache.service';
import { sha256Base64url } from 'src/common/crypto/sha256';
import { AppError } from 'src/common/errors/app-error';
import { dbCall } from 'src/common/errors/db-errors';
import { cookieName, readCookie, setCookie } from 'src/common/html/cookies';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { describeUserAgent } from 'src/browser-sessions/user-agent';
import { RevocationService } from 'src/revocation/revocation.service';

/** A signed-in browser (the provider's view of it). */
export interface BrowserSession {
  /** Public, non-secret session id: the OIDC `sid`. */
  id: string;
  actorId: string;
  /** When the person authenticated, seconds since the epoch. */
  authTime: number;
  amr: string[];
}

/** A live browser session as its owner sees it (my account). */
export interface OwnBrowserSession {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  /** A short description of the browser (`Firefox on Linux`), or null when it sent none. */
  userAgent: string | null;
}

/** Told, after a browser session ended (and its revocation is published), which one it was. */
export type SessionEndedListener = (sessionId: string) => Promise<void> | void;

/** What is cached per session (by the SHA-256 of its cookie secret). */
interface Cached {
  id: string;
  actorId: string;
  authTime: number;
  amr: string[];
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
}

interface Ended {
  id: string;
  secret_sha256: string;
  expires_at: Date;
}

const SESSION_COOKIE = 'bk_session';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Characters of `User-Agent` kept (it is shown shortened anyway). */
const MAX_USER_AGENT = 512;
/** Sessions listed to their owner at most (a person has a handful). */
const MAX_LISTED = 100;
/** `last_used_at` (the idle clock) is written at most this often per session. */
const TOUCH_EVERY_MS = 60_000;
/** Ended and expired sessions are deleted about this often per node. */
const PURGE_EVERY_MS = 60 * 60_000;

/**
 * Server-side browser sessions (issue 9 §3, SECURITY rule 23). The cookie holds a random 256-bit secret;
 * PostgreSQL holds its SHA-256 and is the truth; the cache (Redis when configured) holds a copy. Ending a
 * session marks the row, drops the cached copy and publishes a `browser_session` revocation, which every
 * node applies from memory within a second (with or without Redis): a session ended on one node is
 * refused on all. A session whose actor is disabled is refused from the next request on (the actor
 * snapshot is invalidated on every status change).
 */
@Injectable()
export class BrowserSessionsService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly cookieName: string;
  private readonly secure: boolean;
  private purgeTimer?: NodeJS.Timeout;
  private readonly endedListeners: SessionEndedListener[] = [];

  constructor(
    @InjectRepository(BrowserSessionEntity)
    private readonly repo: Repository<BrowserSessionEntity>,
    private readonly cache: CacheService,
    private readonly actors: ActorsService,
    private readonly revocations: RevocationService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.cookieName = cookieName(SESSION_COOKIE, config.publicUrl);
    this.secure = config.publicUrl.startsWith('https://');
  }

  onApplicationBootstrap(): void {
    this.purgeTimer = setInterval(() => void this.purgeExpired(), PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.purgeTimer);
  }

  /** Deletes sessions that ended or expired more than a day ago (kept that long for audit). */
  async purgeExpired(): Promise<void> {
    await dbCall(() =>
      this.repo.query(
        `DELETE FROM browser_sessions
          WHERE expires_at < now() - interval '1 day' OR ended_at < now() - interval '1 day'`,
      ),
    ).catch((err: unknown) =>
      this.logger.warn({ err: { message: (err as Error).message } }, 'could not purge sessions'),
    );
  }

  /** The browser's live session, or null (no cookie, unknown, ended, expired, idle, actor disabled). */
  async current(request: FastifyRequest): Promise<BrowserSession | null> {
    const secret = readCookie(request, this.cookieName);
    if (!secret) return null;
    const sha = sha256Base64url(secret);
    const s = await this.load(sha);
    if (!s) return null;
    const now = Date.now();
    if (s.expiresAt <= now || s.lastUsedAt + this.config.auth.sessionIdleSeconds * 1000 <= now)
      return null;
    if (this.revocations.isBrowserSessionEnded(s.id)) return null;
    // An actor that no longer exists ends the session; a database outage stays a 503 (rule 18).
    const actor = await this.actors.snapshotById(s.actorId).catch((err: unknown) => {
      if (err instanceof AppError && err.kind === 'INVALID_TOKEN') return null;
      throw err;
    });
    if (!actor || actor.status !== 'ACTIVE') return null;
    if (now - s.lastUsedAt >= TOUCH_EVERY_MS) await this.touch(sha, s, now);
    return { id: s.id, actorId: s.actorId, authTime: s.authTime, amr: [...s.amr] };
  }

  /**
   * Signs the browser in: a new session (a fresh id, so a session id planted before login is useless),
   * its cookie on the reply; the browser's previous session, if any, ends.
   */
  async start(reply: FastifyReply, actorId: string, o: { amr: string[] }): Promise<BrowserSession> {
    const previous = readCookie(reply.request, this.cookieName);
    if (previous) await this.endBySecretSha(sha256Base64url(previous));
    const secret = randomBytes(32).toString('base64url');
    const sha = sha256Base64url(secret);
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.config.auth.sessionAbsoluteSeconds * 1000);
    const userAgent = reply.request.headers['user-agent'];
    const row = await dbCall(() =>
      this.repo.save(
        this.repo.create({
          secretSha256: sha,
          actorId,
          userAgent: typeof userAgent === 'string' ? userAgent.slice(0, MAX_USER_AGENT) : null,
          amr: o.amr,
          authTime: now,
          lastUsedAt: now,
          expiresAt,
        }),
      ),
    );
    const cached: Cached = {
      id: row.id,
      actorId,
      authTime: Math.floor(now.getTime() / 1000),
      amr: o.amr,
      createdAt: now.getTime(),
      lastUsedAt: now.getTime(),
      expiresAt: expiresAt.getTime(),
    };
    await this.cache.set(
      CacheKeys.browserSession(sha),
      cached,
      this.cacheTtl(cached, now.getTime()),
    );
    setCookie(reply, this.cookieName, secret, {
      secure: this.secure,
      maxAgeSeconds: this.config.auth.sessionAbsoluteSeconds,
    });
    this.logger.info(
      { event: 'browser_session.started', sessionId: row.id, actorId, amr: o.amr },
      'browser session started',
    );
    return { id: row.id, actorId, authTime: cached.authTime, amr: [...o.amr] };
  }

  /** Ends one browser session (logout) on every node. Unknown or already ended: nothing happens. */
  async end(sessionId: string): Promise<void> {
    if (!UUID.test(sessionId)) return;
    const ended = await this.markEnded({ id: sessionId });
    await this.afterEnded(ended);
  }

  /**
   * Ends every browser session of an actor (revokeSessions), but `exceptId` (the caller's own, after a
   * password change); returns how many were open.
   */
  async endAllForActor(actorId: string, exceptId?: string): Promise<number> {
    const ended = await this.markEnded({ actorId, exceptId });
    await this.afterEnded(ended);
    return ended.length;
  }

  /** How many browser sessions are live (not ended, expired or idle), every person together. */
  async countLive(): Promise<number> {
    return dbCall(() => this.liveQuery().getCount());
  }

  /** An actor's live sessions (not ended, expired or idle), the most recently used first. */
  async listLive(actorId: string): Promise<OwnBrowserSession[]> {
    const rows = await dbCall(() =>
      this.liveQuery()
        .andWhere('s.actor_id = :actorId', { actorId })
        .orderBy('s.last_used_at', 'DESC')
        .addOrderBy('s.id', 'ASC')
        .limit(MAX_LISTED)
        .getMany(),
    );
    return rows
      .filter((r) => !this.revocations.isBrowserSessionEnded(r.id))
      .map((r) => ({
        id: r.id,
        createdAt: r.createdAt,
        lastUsedAt: r.lastUsedAt,
        userAgent: describeUserAgent(r.userAgent),
      }));
  }

  private liveQuery() {
    return this.repo
      .createQueryBuilder('s')
      .where('s.ended_at IS NULL')
      .andWhere('s.expires_at > now()')
      .andWhere('s.last_used_at > now() - make_interval(secs => :idle)', {
        idle: this.config.auth.sessionIdleSeconds,
      });
  }

  /** Ends one of the actor's own sessions on every node; false when it has no such live session. */
  async endOwn(actorId: string, sessionId: string): Promise<boolean> {
    if (!UUID.test(sessionId)) return false;
    const ended = await this.markEnded({ id: sessionId, actorId });
    await this.afterEnded(ended);
    return ended.length > 0;
  }

  /**
   * Registers a listener called after each browser session ends, however it ends (logout, a new login
   * in the same browser, a password reset, revokeSessions): modules that hang things on a session (the
   * grants made in it) end them too, without this module knowing them. Awaited, in registration order;
   * an error reaches the caller of the end (the session itself stays ended). Listeners must be
   * idempotent.
   */
  onEnded(listener: SessionEndedListener): void {
    this.endedListeners.push(listener);
  }

  /** Removes the session cookie from the browser (after `end`). */
  clearCookie(reply: FastifyReply): void {
    setCookie(reply, this.cookieName, '', { secure: this.secure, maxAgeSeconds: 0 });
  }

  private async endBySecretSha(sha: string): Promise<void> {
    await this.afterEnded(await this.markEnded({ secretSha256: sha }));
  }

  private async markEnded(where: {
    id?: string;
    actorId?: string;
    secretSha256?: string;
    exceptId?: string;
  }): Promise<Ended[]> {
    const conditions: string[] = [];
    const values: string[] = [];
    const add = (sql: string, value: string | undefined): void => {
      if (value === undefined) return;
      values.push(value);
      conditions.push(`${sql} $${values.length}`);
    };
    add('id =', where.id);
    add('actor_id =', where.actorId);
    add('secret_sha256 =', where.secretSha256);
    add('id <>', where.exceptId);
    if (conditions.length === 0) return [];
    const rows = await dbCall(
      () =>
        this.repo.query(
          `UPDATE browser_sessions SET ended_at = now()
            WHERE ${conditions.join(' AND ')} AND ended_at IS NULL AND expires_at > now()
        RETURNING id, secret_sha256, expires_at`,
          values,
        ) as Promise<[Ended[], number] | Ended[]>,
    );
    // node-postgres through TypeORM: UPDATE … RETURNING answers [rows, count].
    const list = Array.isArray(rows[0]) ? (rows[0] as Ended[]) : (rows as Ended[]);
    return list;
  }

  private async afterEnded(ended: Ended[]): Promise<void> {
    if (ended.length === 0) return;
    await this.cache.del(...ended.map((e) => CacheKeys.browserSession(e.secret_sha256)));
    for (const e of ended) {
      await this.revocations.revoke('browser_session', e.id, new Date(e.expires_at));
      this.logger.info(
        { event: 'browser_session.ended', sessionId: e.id },
        'browser session ended',
      );
    }
    for (const e of ended) {
      for (const listener of this.endedListeners) await listener(e.id);
    }
  }

  private async load(sha: string): Promise<Cached | null> {
    const key = CacheKeys.browserSession(sha);
    const hit = await this.cache.get<Cached>(key);
    if (hit) return hit;
    return this.cache.singleFlight(key, async () => {
      const row = await dbCall(() => this.repo.findOneBy({ secretSha256: sha, endedAt: IsNull() }));
      if (!row) return null;
      const now = Date.now();
      const s: Cached = {
        id: row.id,
        actorId: row.actorId,
        authTime: Math.floor(row.authTime.getTime() / 1000),
        amr: row.amr,
        createdAt: row.createdAt.getTime(),
        lastUsedAt: row.lastUsedAt.getTime(),
        expiresAt: row.expiresAt.getTime(),
      };
      if (s.expiresAt > now) await this.cache.set(key, s, this.cacheTtl(s, now));
      return s;
    });
  }

  private async touch(sha: string, s: Cached, now: number): Promise<void> {
    s.lastUsedAt = now;
    await dbCall(() =>
      this.repo.update({ id: s.id, endedAt: IsNull() }, { lastUsedAt: new Date(now) }),
    ).catch((err: unknown) =>
      this.logger.warn({ err: { message: (err as Error).message } }, 'could not touch session'),
    );
    await this.cache.set(CacheKeys.browserSession(sha), s, this.cacheTtl(s, now));
  }

  private cacheTtl(s: Cached, now: number): number {
    return Math.max(
      1000,
      Math.min(s.expiresAt - now, s.lastUsedAt + this.config.auth.sessionIdleSeconds * 1000 - now),
    );
  }
}
