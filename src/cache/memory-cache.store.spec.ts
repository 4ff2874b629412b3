import { MemoryCacheStore } from 'src/cache/memory-cache.store';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const read = async (store: MemoryCacheStore, key: string) =>
  MemoryCacheStore.unwrap(await store.get(key));

describe('MemoryCacheStore', () => {
  it('returns what was stored, and undefined for a miss', async () => {
    const store = new MemoryCacheStore(100);
    await store.set('a', { n: 1 }, 60_000);
    expect(await read(store, 'a')).toEqual({ n: 1 });
    expect(await store.get('missing')).toBeUndefined();
    expect(await read(store, 'missing')).toBeUndefined();
  });

  it('keeps falsy values apart from misses', async () => {
    const store = new MemoryCacheStore(100);
    await store.set('zero', 0, 60_000);
    await store.set('null', null, 60_000);
    await store.set('false', false, 60_000);
    expect(await store.get('zero')).toBeDefined();
    expect(await read(store, 'zero')).toBe(0);
    expect(await read(store, 'null')).toBeNull();
    expect(await read(store, 'false')).toBe(false);
  });

  it('expires an entry after its TTL', async () => {
    const store = new MemoryCacheStore(100);
    await store.set('short', 'v', 30);
    await store.set('long', 'v', 60_000);
    expect(await read(store, 'short')).toBe('v');
    await sleep(80);
    expect(await store.get('short')).toBeUndefined();
    expect(await read(store, 'long')).toBe('v');
  });

  it('does not store entries whose TTL is zero or negative (already expired)', async () => {
    const store = new MemoryCacheStore(100);
    await store.set('zero', 'v', 0);
    await store.set('negative', 'v', -5);
    expect(await store.get('zero')).toBeUndefined();
    expect(await store.get('negative')).toBeUndefined();
  });

  it('is bounded: the least recently used entry goes first', async () => {
    const store = new MemoryCacheStore(3);
    await store.set('a', 1, 60_000);
    await store.set('b', 2, 60_000);
    await store.set('c', 3, 60_000);
    expect(await read(store, 'a')).toBe(1); // a is now the most recently used
    await store.set('d', 4, 60_000);
    expect(await store.get('b')).toBeUndefined();
    expect(await read(store, 'a')).toBe(1);
    expect(await read(store, 'c')).toBe(3);
    expect(await read(store, 'd')).toBe(4);
  });

  it('never holds more than its maximum', async () => {
    const store = new MemoryCacheStore(10);
    for (let i = 0; i < 100; i++) await store.set(`k${i}`, i, 60_000);
    let present = 0;
    for (let i = 0; i < 100; i++) if ((await store.get(`k${i}`)) !== undefined) present++;
    expect(present).toBe(10);
    expect(await read(store, 'k99')).toBe(99);
  });

  it('freezes the stored envelope', async () => {
    const store = new MemoryCacheStore(10);
    await store.set('k', { n: 1 }, 60_000);
    const entry = await store.get('k');
    expect(Object.isFrozen(entry)).toBe(true);
  });

  it('deletes keys and clears on close', async () => {
    const store = new MemoryCacheStore(10);
    await store.set('a', 1, 60_000);
    await store.set('b', 2, 60_000);
    await store.set('c', 3, 60_000);
    await store.del(['a', 'b', 'never-set']);
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('b')).toBeUndefined();
    expect(await read(store, 'c')).toBe(3);
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    expect(await store.get('c')).toBeUndefined();
    expect(store.kind).toBe('memory');
  });
});
