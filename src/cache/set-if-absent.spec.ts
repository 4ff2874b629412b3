import pino from 'pino';
import { CacheService } from 'src/cache/cache.service';
import { CacheStore } from 'src/cache/cache-store';
import { MemoryCacheStore } from 'src/cache/memory-cache.store';
import type { MetricsService } from 'src/metrics/metrics.service';

const metrics = { cacheOperations: { inc: () => undefined } } as unknown as MetricsService;
const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A shared store that can be switched off, standing in for Redis (SET NX PX semantics). */
class FlakyStore extends CacheStore {
  readonly kind = 'redis' as const;
  down = false;
  readonly inner = new MemoryCacheStore(100);
  private check() {
    if (this.down) throw new Error('connection refused');
  }
  async get(key: string) {
    this.check();
    return MemoryCacheStore.unwrap(await this.inner.get(key));
  }
  async set(key: string, value: unknown, ttlMs: number) {
    this.check();
    await this.inner.set(key, value, ttlMs);
  }
  async setIfAbsent(key: string, value: unknown, ttlMs: number) {
    this.check();
    return this.inner.setIfAbsent(key, value, ttlMs);
  }
  async del(keys: string[]) {
    this.check();
    await this.inner.del(keys);
  }
  async ping() {
    this.check();
  }
  async close() {}
}

describe('setIfAbsent (one-time claims such as client assertion jtis)', () => {
  it('memory store: true once, false while the entry lives, true again after its TTL', async () => {
    const store = new MemoryCacheStore(100);
    expect(await store.setIfAbsent('k', 1, 40)).toBe(true);
    expect(await store.setIfAbsent('k', 1, 40)).toBe(false);
    await sleep(60);
    expect(await store.setIfAbsent('k', 1, 40)).toBe(true);
  });

  it('memory store: concurrent claims of one key succeed exactly once', async () => {
    const cache = new CacheService(new MemoryCacheStore(100), metrics, logger);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => cache.setIfAbsent('k', 1, 60_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('shared store: a key claimed by one node is refused on another', async () => {
    const shared = new FlakyStore();
    const a = new CacheService(shared, metrics, logger);
    const b = new CacheService(shared, metrics, logger);
    expect(await a.setIfAbsent('k', 1, 60_000)).toBe(true);
    expect(await b.setIfAbsent('k', 1, 60_000)).toBe(false);
    expect(await a.setIfAbsent('k', 1, 60_000)).toBe(false);
  });

  it('store down: fails soft to a per-node memory, still one use per node, and remembers claims made before the outage', async () => {
    const shared = new FlakyStore();
    const a = new CacheService(shared, metrics, logger);
    const b = new CacheService(shared, metrics, logger);
    expect(await a.setIfAbsent('before', 1, 60_000)).toBe(true);
    shared.down = true;
    // Claimed on this node before Redis went away: still refused here.
    expect(await a.setIfAbsent('before', 1, 60_000)).toBe(false);
    expect(await a.setIfAbsent('during', 1, 60_000)).toBe(true);
    expect(await a.setIfAbsent('during', 1, 60_000)).toBe(false);
    // The documented trade-off: another node cannot know about it while the shared store is down.
    expect(await b.setIfAbsent('during', 1, 60_000)).toBe(true);
    expect(await b.setIfAbsent('during', 1, 60_000)).toBe(false);
  });
});
