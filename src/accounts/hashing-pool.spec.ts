import { Algorithm } from '@node-rs/argon2';
import { HashingPool } from 'src/accounts/hashing-pool';
import { PasswordHasher } from 'src/accounts/password-hasher';

// Cheap parameters: the pool's behaviour, not argon2's cost, is under test.
const FAST = { algorithm: Algorithm.Argon2id, memoryCost: 1024, timeCost: 1, parallelism: 1 };

describe('HashingPool (argon2 on dedicated low-priority threads, bounded)', () => {
  let pool: HashingPool;
  afterEach(() => pool.close());

  it('hashes and verifies off the event loop', async () => {
    pool = new HashingPool({ size: 1 });
    const hash = await pool.hash('correct horse battery staple', FAST);
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(await pool.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await pool.verify(hash, 'wrong')).toBe(false);
    await expect(pool.verify('not a hash', 'x')).rejects.toThrow();
  });

  it('runs its threads below normal priority (Linux)', async () => {
    pool = new HashingPool({ size: 1, nice: 10 });
    await pool.hash('p', FAST);
    const { niceness } = pool.stats();
    if (process.platform !== 'linux') return;
    expect(niceness).toEqual([10]);
  });

  it('never runs more hashes at once than its size, whatever is submitted', async () => {
    pool = new HashingPool({ size: 2 });
    let maxBusy = 0;
    const jobs = Array.from({ length: 12 }, (_, i) => pool.hash(`password-${i}`, FAST));
    const watch = setInterval(() => (maxBusy = Math.max(maxBusy, pool.stats().busy)), 1);
    const hashes = await Promise.all(jobs);
    clearInterval(watch);
    expect(new Set(hashes).size).toBe(12);
    expect(pool.stats().threads).toBeLessThanOrEqual(2);
    expect(maxBusy).toBeLessThanOrEqual(2);
    expect(pool.stats().queued).toBe(0);
  });

  it('answers "busy, try again" (UNAVAILABLE) beyond its queue, and recovers', async () => {
    pool = new HashingPool({ size: 1, maxQueued: 3 });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => pool.hash(`p-${i}`, FAST)),
    );
    // One running, three queued, two refused.
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(2);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
      kind: 'UNAVAILABLE',
      retryAfterSeconds: 2,
    });
    expect(await pool.hash('after', FAST)).toMatch(/^\$argon2id\$/);
  });

  it('ends idle threads, and starts one again when needed', async () => {
    pool = new HashingPool({ size: 1, idleMs: 50 });
    await pool.hash('p', FAST);
    expect(pool.stats().threads).toBe(1);
    for (let i = 0; i < 100 && pool.stats().threads > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(pool.stats().threads).toBe(0);
    expect(await pool.hash('again', FAST)).toMatch(/^\$argon2id\$/);
  });

  it('PasswordHasher: a malformed stored hash is a mismatch; an unknown user does the same work', async () => {
    pool = new HashingPool({ size: 1 });
    const hasher = new PasswordHasher(pool);
    expect(await hasher.verify('garbage', 'x')).toBe(false);
    expect(await hasher.verify(null, 'x')).toBe(false);
    const stored = await hasher.hash('a long enough password');
    expect(await hasher.verify(stored, 'a long enough password')).toBe(true);
  });
});
