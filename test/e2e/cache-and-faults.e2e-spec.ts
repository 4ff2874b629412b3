import Redis from 'ioredis';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';
import { waitFor } from '../support/ports';
import { createTestDatabase, RestartablePostgres } from '../support/postgres';
import { startRedis, type RedisServer } from '../support/redis';

// The verified-token and actor caches behave the same in-process and on Redis (issue §2), Redis and
// PostgreSQL outages (SECURITY.md rules 18, 19), and no token in cache keys or values (rule 14).
const AUD = 'bridgekeeper-cache';

/** Sum of a Prometheus counter's samples whose labels contain every given `k="v"` pair. */
async function counter(bk: RunningBridgekeeper, name: string, labels: Record<string, string>) {
  const text = await (await bk.get('/metrics')).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

describe.each(['memory', 'redis'] as const)('verified-token cache (%s)', (kind) => {
  let stub: JwksStub;
  let redis: RedisServer | undefined;
  let databaseUrl: string;
  let a: RunningBridgekeeper;
  let b: RunningBridgekeeper | undefined;

  beforeAll(async () => {
    stub = await JwksStub.start();
    redis = kind === 'redis' ? await startRedis() : undefined;
    databaseUrl = await createTestDatabase();
    const options = {
      issuers: [{ name: 'stub', issuer: stub.issuer, jwks: stub.jwksUrl, audiences: AUD }],
      admins: ['stub:admin'],
      databaseUrl,
      redisUrl: redis?.url,
    };
    a = await startBridgekeeper(options);
    // With Redis, a second node sharing the database and the cache.
    if (redis) b = await startBridgekeeper(options);
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.stop();
    await stub?.stop();
  });

  it('verifies a repeated token once and serves the rest from the cache', async () => {
    const token = await stub.token(AUD, { sub: `repeat-${kind}` });
    const verified = () =>
      counter(a, 'bridgekeeper_token_validations_total', { reason: 'verified' });
    const cached = () => counter(a, 'bridgekeeper_token_validations_total', { reason: 'cached' });
    const [v0, c0] = [await verified(), await cached()];
    for (let i = 0; i < 10; i++) expect((await a.get('/oauth2/userinfo', token)).status).toBe(200);
    expect((await verified()) - v0).toBe(1);
    expect((await cached()) - c0).toBe(9);
  });

  it('never caches a token past its exp', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await stub.token(AUD, { sub: `short-${kind}`, iat: now, exp: now + 1 }, {});
    expect((await a.get('/oauth2/userinfo', token)).status).toBe(200);
    // exp + the 60 s clock tolerance would still verify; the cache entry itself must be gone at exp.
    await waitFor('token to expire', async () => Date.now() / 1000 > now + 1.2, 5_000, 100);
    const verified = () =>
      counter(a, 'bridgekeeper_token_validations_total', { reason: 'verified' });
    const before = await verified();
    expect((await a.get('/oauth2/userinfo', token)).status).toBe(200);
    expect((await verified()) - before).toBe(1);
  });

  if (kind === 'redis') {
    it('keeps no token, signature or claim in Redis keys or values', async () => {
      const token = await stub.token(AUD, { sub: 'secretive', email: 'secretive@example.com' });
      expect((await a.get('/oauth2/userinfo', token)).status).toBe(200);
      const client = new Redis(redis!.url);
      try {
        const keys = await client.keys('*');
        expect(keys.length).toBeGreaterThan(0);
        const values = await Promise.all(keys.map((k) => client.get(k)));
        const everything = keys.join('\n') + '\n' + values.join('\n');
        expect(everything).not.toContain(token);
        expect(everything).not.toContain(token.split('.')[2]);
        expect(everything).not.toContain(token.split('.')[1]);
        for (const k of keys) expect(k).toMatch(/^bk:/);
        expect(keys.join('\n')).not.toContain('secretive');
      } finally {
        client.disconnect();
      }
    });

    it('refuses a disabled actor on every node sharing Redis, from the next request on', async () => {
      const token = await stub.token(AUD, { sub: 'two-nodes' });
      const admin = await stub.token(AUD, { sub: 'admin' });
      const first = await b!.get('/oauth2/userinfo', token);
      expect(first.status).toBe(200);
      expect((await a.get('/oauth2/userinfo', token)).status).toBe(200);
      const id = ((await first.json()) as { sub: string }).sub;
      const res = await a.graphql(`mutation { disableActor(id: "${id}") { status } }`, admin);
      expect(res.body.data).toEqual({ disableActor: { status: 'DISABLED' } });
      expect((await b!.get('/oauth2/userinfo', token)).status).toBe(401);
      expect((await a.get('/oauth2/userinfo', token)).status).toBe(401);
    });
  }
});

describe('Redis down (rule 19)', () => {
  let stub: JwksStub;
  let redis: RedisServer;
  let bk: RunningBridgekeeper;

  beforeAll(async () => {
    stub = await JwksStub.start();
    redis = await startRedis();
    bk = await startBridgekeeper({
      issuers: [{ name: 'stub', issuer: stub.issuer, jwks: stub.jwksUrl, audiences: AUD }],
      redisUrl: redis.url,
    });
  });

  afterAll(async () => {
    await bk?.close();
    await redis?.stop();
    await stub?.stop();
  });

  it('fails soft: requests keep working on the database, readiness reports Redis, and it recovers', async () => {
    const known = await stub.token(AUD, { sub: 'before-outage' });
    expect((await bk.get('/oauth2/userinfo', known)).status).toBe(200);
    expect((await bk.get('/health/ready')).status).toBe(200);

    await redis.stop();
    expect((await bk.get('/oauth2/userinfo', known)).status).toBe(200);
    const fresh = await stub.token(AUD, { sub: 'during-outage' });
    expect((await bk.get('/oauth2/userinfo', fresh)).status).toBe(200);
    expect((await bk.get('/oauth2/userinfo', fresh)).status).toBe(200);
    const ready = await bk.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain('redis');
    expect(
      await counter(bk, 'bridgekeeper_cache_operations_total', { result: 'error' }),
    ).toBeGreaterThan(0);

    redis = await startRedis({ port: redis.port });
    await waitFor(
      'Redis reconnect',
      async () => (await bk.get('/health/ready')).status === 200,
      20_000,
      200,
    );
    expect((await bk.get('/oauth2/userinfo', fresh)).status).toBe(200);
  });
});

describe('PostgreSQL down (rule 18)', () => {
  let stub: JwksStub;
  let pg: RestartablePostgres;
  let bk: RunningBridgekeeper;

  beforeAll(async () => {
    stub = await JwksStub.start();
    pg = await RestartablePostgres.start();
    bk = await startBridgekeeper({
      issuers: [{ name: 'stub', issuer: stub.issuer, jwks: stub.jwksUrl, audiences: AUD }],
      databaseUrl: pg.url,
      admins: ['stub:admin'],
    });
  });

  afterAll(async () => {
    await bk?.close();
    await pg?.destroy();
    await stub?.stop();
  });

  it('answers 503 with Retry-After (never 401 or 500), stays up, and recovers by itself', async () => {
    const admin = await stub.token(AUD, { sub: 'admin' });
    expect((await bk.get('/oauth2/userinfo', admin)).status).toBe(200);

    await pg.down();
    const newcomer = await bk.get('/oauth2/userinfo', await stub.token(AUD, { sub: 'newcomer' }));
    expect(newcomer.status).toBe(503);
    expect(newcomer.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await newcomer.json()) as { error: string }).error).toBe('temporarily_unavailable');

    const gql = await bk.graphql('{ actors { totalCount } }', admin);
    expect(gql.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(gql.body.data ?? null).toBeNull();

    expect((await bk.get('/health/ready')).status).toBe(503);
    expect((await bk.get('/health/live')).status).toBe(200);

    await pg.up();
    await waitFor(
      'database recovery',
      async () => (await bk.get('/health/ready')).status === 200,
      30_000,
      250,
    );
    expect(
      (await bk.get('/oauth2/userinfo', await stub.token(AUD, { sub: 'newcomer' }))).status,
    ).toBe(200);
    expect(bk.logs.join('\n')).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });
});
