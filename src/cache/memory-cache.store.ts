import { LRUCache } from 'lru-cache';
import { CacheStore } from 'src/cache/cache-store';

/**
 * In-process LRU, bounded by entry count. Values are stored as given and must be treated as immutable
 * by callers (they are frozen on the way in), which saves a JSON round trip on the hot path.
 */
export class MemoryCacheStore extends CacheStore {
  readonly kind = 'memory' as const;
  private readonly lru: LRUCache<string, object>;

  constructor(maxEntries: number) {
    super();
    this.lru = new LRUCache<string, object>({ max: maxEntries, ttlAutopurge: false });
  }

  async get(key: string): Promise<unknown> {
    return this.lru.get(key);
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    this.lru.set(key, Object.freeze({ v: value }), { ttl: Math.ceil(ttlMs) });
  }

  /** Check and set in one synchronous step: atomic within this process. */
  async setIfAbsent(key: string, value: unknown, ttlMs: number): Promise<boolean> {
    if (this.lru.has(key)) return false;
    this.lru.set(key, Object.freeze({ v: value }), { ttl: Math.max(1, Math.ceil(ttlMs)) });
    return true;
  }

  async del(keys: string[]): Promise<void> {
    for (const k of keys) this.lru.delete(k);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.lru.clear();
  }

  /** Unwraps the frozen envelope; `undefined` means a miss. */
  static unwrap(entry: unknown): unknown {
    return entry === undefined ? undefined : (entry as { v: unknown }).v;
  }
}
