import Redis from 'ioredis';
import type { Logger } from 'pino';
import { CacheStore } from 'src/cache/cache-store';

export interface RedisStoreOptions {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
}

/**
 * Redis-backed store. Commands fail fast (no offline queue, short command timeout) so that a Redis
 * outage degrades to the source of truth instead of hanging requests (SECURITY.md rule 19).
 */
export class RedisCacheStore extends CacheStore {
  readonly kind = 'redis' as const;
  readonly client: Redis;

  constructor(options: RedisStoreOptions, logger: Logger) {
    super();
    this.client = new Redis(options.url, {
      keyPrefix: options.keyPrefix,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: Math.max(1000, options.commandTimeoutMs),
      enableOfflineQueue: false,
      // Commands issued in the same tick by concurrent requests share one write (fewer syscalls).
      enableAutoPipelining: true,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    let lastLogged = 0;
    this.client.on('error', (err: Error) => {
      const now = Date.now();
      if (now - lastLogged > 5000) {
        lastLogged = now;
        logger.warn({ err: { message: err.message } }, 'redis error; cache is failing soft');
      }
    });
  }

  /** Connects once at start; a Redis that is down at boot is not fatal (the cache fails soft). */
  async connect(): Promise<void> {
    await this.client.connect().catch(() => undefined);
  }

  async get(key: string): Promise<unknown> {
    const raw = await this.client.get(key);
    return raw === null ? undefined : (JSON.parse(raw) as unknown);
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    const ms = Math.ceil(ttlMs);
    if (ms <= 0) return;
    await this.client.set(key, JSON.stringify(value), 'PX', ms);
  }

  async setIfAbsent(key: string, value: unknown, ttlMs: number): Promise<boolean> {
    const ms = Math.max(1, Math.ceil(ttlMs));
    return (await this.client.set(key, JSON.stringify(value), 'PX', ms, 'NX')) === 'OK';
  }

  async del(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.client.del(...keys);
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
