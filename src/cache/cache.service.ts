import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { namespaceOf } from 'src/cache/cache-keys';
import { CacheStore } from 'src/cache/cache-store';
import { MemoryCacheStore } from 'src/cache/memory-cache.store';
import { LOGGER } from 'src/common/logging/logging.constants';
import { MetricsService } from 'src/metrics/metrics.service';

/**
 * The cache every module uses. Fails soft: a store error is logged (rate-limited), counted, and treated
 * as a miss, so callers go to the source of truth. `wrap` coalesces concurrent misses of one key in this
 * process into a single call of the loader.
 */
@Injectable()
export class CacheService implements OnApplicationShutdown {
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly unwrap: (entry: unknown) => unknown;
  private lastErrorLog = 0;

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
    } catch (err) {
      this.failSoft(keys.length ? namespaceOf(keys[0]) : 'none', 'del', err);
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
    await this.store.close();
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
