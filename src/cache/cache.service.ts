import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { namespaceOf } from 'src/cache/cache-keys';
import { CacheStore } from 'src/cache/cache-store';
import { MemoryCacheStore } from 'src/cache/memory-cache.store';
import { LOGGER } from 'src/common/logging/logging.constants';
import { MetricsService } from 'src/metrics/metrics.service';

/** Bound on remembered failed deletions (beyond it the oldest are forgotten). */
const MAX_PENDING_DELETES = 100_000;
const PENDING_DELETE_RETRY_MS = 1_000;
/** Bound on the per-node memory of keys claimed with `setIfAbsent` (the Redis-down fallback). */
const MAX_LOCAL_CLAIMS = 100_000;

/**
 * The cache every module uses. Fails soft: a store error is logged (rate-limited), counted, and treated
 * as a miss, so callers go to the source of truth. `wrap` coalesces concurrent misses of one key in this
 * process into a single call of the loader. A deletion (an invalidation) that fails is remembered and
 * retried until it succeeds, and the key is never read meanwhile: a store that was only unreachable
 * (network cut, not restarted) must not serve the entry again once it is back (SECURITY.md rules 13, 19).
 */
@Injectable()
export class CacheService implements OnApplicationShutdown {
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly unwrap: (entry: unknown) => unknown;
  private readonly pendingDeletes = new Set<string>();
  private retryTimer?: NodeJS.Timeout;
  private lastErrorLog = 0;
  private readonly localClaims = new LRUCache<string, true>({ max: MAX_LOCAL_CLAIMS });

  constructor(
    private readonly store: CacheStore,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.unwrap = store instanceof MemoryCacheStore ? MemoryCacheStore.unwrap : (v) => v;
  }

  get kind(): 'memory' | 'redis' {
    return this.store.kind;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const ns = namespaceOf(key);
    try {
      if (this.pendingDeletes.has(key)) {
        await this.store.del([key]);
        this.pendingDeletes.delete(key);
        this.metrics.cacheOperations.inc({ cache: ns, result: 'miss' });
        return undefined;
      }
      const value = this.unwrap(await this.store.get(key)) as T | undefined;
      this.metrics.cacheOperations.inc({ cache: ns, result: value === undefined ? 'miss' : 'hit' });
      return value;
    } catch (err) {
      this.failSoft(ns, 'get', err);
      return undefined;
    }
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    try {
      await this.store.set(key, value, ttlMs);
    } catch (err) {
      this.failSoft(namespaceOf(key), 'set', err);
    }
  }

  async del(...keys: string[]): Promise<void> {
    try {
      await this.store.del(keys);
      for (const k of keys) this.pendingDeletes.delete(k);
    } catch (err) {
      this.failSoft(keys.length ? namespaceOf(keys[0]) : 'none', 'del', err);
      this.rememberDeletes(keys);
    }
  }

  /**
   * Claims `key` for `ttlMs`: true the first time, false while it is claimed (one-time use, such as a
   * client assertion's `jti`). With Redis the claim is atomic across nodes (`SET NX PX`). Every claim is
   * also remembered on this node, and when the store cannot answer the claim fails soft to that memory
   * alone: a key is then still claimed at most once per node, though once on each node at worst.
   */
  async setIfAbsent(key: string, value: unknown, ttlMs: number): Promise<boolean> {
    const ns = namespaceOf(key);
    const ttl = Math.max(1, Math.ceil(ttlMs));
    if (this.store.kind === 'memory') {
      const stored = await this.store.setIfAbsent(key, value, ttl);
      this.metrics.cacheOperations.inc({ cache: ns, result: stored ? 'miss' : 'hit' });
      return stored;
    }
    if (this.localClaims.has(key)) {
      this.metrics.cacheOperations.inc({ cache: ns, result: 'hit' });
      return false;
    }
    this.localClaims.set(key, true, { ttl });
    try {
      const stored = await this.store.setIfAbsent(key, value, ttl);
      this.metrics.cacheOperations.inc({ cache: ns, result: stored ? 'miss' : 'hit' });
      return stored;
    } catch (err) {
      this.failSoft(ns, 'setIfAbsent', err);
      return true;
    }
  }

  /**
   * Cached value, or the loader's result stored for `ttlMs(value)` milliseconds. Concurrent callers for
   * the same key in this process share one loader call. Loader errors are not cached.
   */
  async wrap<T>(key: string, ttlMs: (value: T) => number, load: () => Promise<T>): Promise<T> {
    const hit = await this.get<T>(key);
    if (hit !== undefined) return hit;
    return this.singleFlight(key, async () => {
      const value = await load();
      const ttl = ttlMs(value);
      if (ttl > 0) await this.set(key, value, ttl);
      return value;
    });
  }

  /** Runs `fn` once for concurrent callers that share `key` in this process. */
  singleFlight<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const p = fn().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  ping(): Promise<void> {
    return this.store.ping();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    this.localClaims.clear();
    await this.store.close();
  }

  private rememberDeletes(keys: string[]): void {
    for (const k of keys) {
      this.pendingDeletes.delete(k);
      this.pendingDeletes.add(k);
    }
    for (const oldest of this.pendingDeletes) {
      if (this.pendingDeletes.size <= MAX_PENDING_DELETES) break;
      this.pendingDeletes.delete(oldest);
    }
    this.retryTimer ??= setInterval(
      () => void this.retryDeletes(),
      PENDING_DELETE_RETRY_MS,
    ).unref();
  }

  /** Background retry, so other nodes sharing the store stop seeing the entries soon after it is back. */
  private async retryDeletes(): Promise<void> {
    const keys = [...this.pendingDeletes];
    if (keys.length > 0) {
      try {
        await this.store.del(keys);
        for (const k of keys) this.pendingDeletes.delete(k);
      } catch {
        // Still unreachable: the next tick tries again (the failure was already logged and counted).
      }
    }
    if (this.pendingDeletes.size === 0) {
      clearInterval(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  private failSoft(ns: string, op: string, err: unknown): void {
    this.metrics.cacheOperations.inc({ cache: ns, result: 'error' });
    const now = Date.now();
    if (now - this.lastErrorLog > 5000) {
      this.lastErrorLog = now;
      this.logger.warn(
        { cache: ns, op, err: { message: (err as Error).message } },
        'cache unavailable; using the source of truth',
      );
    }
  }
}
