import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';
import { counter, scrape, sumSamples } from '../support/metrics';
import { waitFor } from '../support/ports';
import { query, RestartablePostgres } from '../support/postgres';
import { startRedis, type RedisServer } from '../support/redis';
import { TcpProxy } from '../support/tcp-proxy';

// Plain faults (SECURITY.md rules 18, 19): Redis down, hung or cut off, PostgreSQL down. Requests fail
// soft or get a 503 with Retry-After, never a 401 or a 500; readiness tells; the process recovers by
// itself. Plus the public health and metrics endpoints. No token ever reaches a log line (rule 14).
// Real servers and several app instances start here: more than jest's 5 s default (the config's
// testTimeout is not a project option, so it does not apply).
jest.setTimeout(60_000);
const AUD = 'bk-faults';
const PARTNER_AUD = 'bk-faults-partner';
/** Generous bound for "does not hang": far above the Redis command timeout, far below jest's. */
const NO_HANG_MS = 10_000;

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

async function call(
  bk: RunningBridgekeeper,
  path: string,
  token?: string,
  init: { method?: string; body?: string } = {},
): Promise<Answer> {
  const res = await fetch(`${bk.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
    body: init.body,
    signal: AbortSignal.timeout(NO_HANG_MS),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (metrics)
  }
  return { status: res.status, headers: res.headers, body, text };
}

const userinfo = (bk: RunningBridgekeeper, token: string) => call(bk, '/oauth2/userinfo', token);
const gql = (bk: RunningBridgekeeper, q: string, token?: string) =>
  call(bk, '/graphql', token, { method: 'POST', body: JSON.stringify({ query: q }) });

function expectNoTokenLogged(bk: RunningBridgekeeper | undefined, tokens: string[]): void {
  const logs = bk?.logs.join('\n') ?? '';
  expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
  for (const t of tokens) expect(logs).not.toContain(t.split('.')[2]);
}

describe('Redis stopped (rule 19)', () => {
  let stub: JwksStub;
  let redis: RedisServer;
  let bk: RunningBridgekeeper;
  const tokens: string[] = [];
  const token = async (sub: string) => {
    const t = await stub.token(AUD, { sub });
    tokens.push(t);
    return t;
  };

  beforeAll(async () => {
    stub = await JwksStub.start();
    redis = await startRedis();
    bk = await startBridgekeeper({
      issuers: [stub.trustedIssuer('stub', AUD)],
      admins: ['stub:admin'],
      redisUrl: redis.url,
    });
  });

  afterAll(async () => {
    try {
      expectNoTokenLogged(bk, tokens);
    } finally {
      await bk?.close();
      await redis?.stop();
      await stub?.stop();
    }
  });

  it('keeps answering from PostgreSQL, reports Redis in readiness, and recovers when it is back', async () => {
    const admin = await token('admin');
    const known = await token('known-before');
    expect((await userinfo(bk, known)).status).toBe(200);
    const victim = await token('victim');
    const victimId = (await userinfo(bk, victim)).body.sub as string;
    expect((await call(bk, '/health/ready')).status).toBe(200);

    await redis.stop();
    // Known and brand-new callers alike, REST and GraphQL: served, without waiting on Redis.
    expect((await userinfo(bk, known)).status).toBe(200);
    const fresh = await token('fresh-during-outage');
    const created = await userinfo(bk, fresh);
    expect(created.status).toBe(200);
    expect((await userinfo(bk, fresh)).body.sub).toBe(created.body.sub);
    expect((await gql(bk, '{ me { subject } }', fresh)).body).toEqual({
      data: { me: { subject: 'fresh-during-outage' } },
    });
    // Disabling still takes effect: the check falls back to PostgreSQL.
    const disabled = await gql(
      bk,
      `mutation { disableActor(id: "${victimId}") { status } }`,
      admin,
    );
    expect(disabled.body).toEqual({ data: { disableActor: { status: 'DISABLED' } } });
    expect((await userinfo(bk, victim)).status).toBe(401);

    const ready = await call(bk, '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      status: 'error',
      error: { redis: { status: 'down' } },
      info: { database: { status: 'up' } },
    });
    expect((await call(bk, '/health/live')).status).toBe(200);
    expect(
      await counter(bk, 'bridgekeeper_cache_operations_total', { result: 'error' }),
    ).toBeGreaterThan(0);

    redis = await startRedis({ port: redis.port });
    await waitFor(
      'readiness with Redis back',
      async () => (await call(bk, '/health/ready')).status === 200,
      20_000,
      100,
    );
    // The cache is used again: a new token's actor is a cache hit on its second request.
    const after = await token('after-outage');
    expect((await userinfo(bk, after)).status).toBe(200);
    const hits = await counter(bk, 'bridgekeeper_cache_operations_total', {
      cache: 'actor',
      result: 'hit',
    });
    expect((await userinfo(bk, after)).status).toBe(200);
    expect(
      await counter(bk, 'bridgekeeper_cache_operations_total', { cache: 'actor', result: 'hit' }),
    ).toBeGreaterThan(hits);
    expect((await userinfo(bk, victim)).status).toBe(401);
  });
});

describe('Redis hung (rule 19: short command timeout)', () => {
  let stub: JwksStub;
  let redis: RedisServer;
  let bk: RunningBridgekeeper;
  const tokens: string[] = [];

  beforeAll(async () => {
    stub = await JwksStub.start();
    redis = await startRedis();
    bk = await startBridgekeeper({
      issuers: [stub.trustedIssuer('stub', AUD)],
      redisUrl: redis.url,
      properties: { 'bridgekeeper.redis.command.timeout.ms': '200' },
    });
  });

  afterAll(async () => {
    try {
      expectNoTokenLogged(bk, tokens);
    } finally {
      redis?.process.kill('SIGCONT');
      await bk?.close();
      await redis?.stop();
      await stub?.stop();
    }
  });

  it('answers without hanging while Redis accepts connections but never replies', async () => {
    const known = await stub.token(AUD, { sub: 'known' });
    tokens.push(known);
    expect((await userinfo(bk, known)).status).toBe(200);

    redis.process.kill('SIGSTOP');
    try {
      const fresh = await stub.token(AUD, { sub: 'during-hang' });
      tokens.push(fresh);
      // Each call is aborted after NO_HANG_MS: reaching the assertions means nothing hung.
      expect((await userinfo(bk, fresh)).status).toBe(200);
      expect((await userinfo(bk, known)).status).toBe(200);
      expect((await gql(bk, '{ me { subject } }', fresh)).body).toEqual({
        data: { me: { subject: 'during-hang' } },
      });
      const ready = await call(bk, '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ error: { redis: { status: 'down' } } });
    } finally {
      redis.process.kill('SIGCONT');
    }
    await waitFor(
      'readiness with Redis answering again',
      async () => (await call(bk, '/health/ready')).status === 200,
      20_000,
      100,
    );
    expect((await userinfo(bk, known)).status).toBe(200);
  });
});

describe('Redis cut off by the network, its data intact (rules 13, 19)', () => {
  let stub: JwksStub;
  let redis: RedisServer;
  let proxy: TcpProxy;
  let bk: RunningBridgekeeper;
  const tokens: string[] = [];

  beforeAll(async () => {
    stub = await JwksStub.start();
    redis = await startRedis();
    proxy = await TcpProxy.start(redis.port);
    bk = await startBridgekeeper({
      issuers: [stub.trustedIssuer('stub', AUD)],
      admins: ['stub:admin'],
      redisUrl: proxy.url,
    });
  });

  afterAll(async () => {
    try {
      expectNoTokenLogged(bk, tokens);
    } finally {
      await bk?.close();
      await proxy?.stop();
      await redis?.stop();
      await stub?.stop();
    }
  });

  it('does not serve a stale active actor from Redis after a disable made during the outage', async () => {
    const admin = await stub.token(AUD, { sub: 'admin' });
    const target = await stub.token(AUD, { sub: 'partitioned' });
    tokens.push(admin, target);
    expect((await userinfo(bk, admin)).status).toBe(200);
    const id = (await userinfo(bk, target)).body.sub as string;
    expect((await userinfo(bk, target)).status).toBe(200); // its snapshot is now in Redis

    proxy.cut();
    const res = await gql(bk, `mutation { disableActor(id: "${id}") { status } }`, admin);
    expect(res.body).toEqual({ data: { disableActor: { status: 'DISABLED' } } });
    const disabledAt = Date.now();
    expect((await userinfo(bk, target)).status).toBe(401);
    // Outlast any delayed re-invalidation, so only a real retry can clean Redis up.
    await waitFor('the outage to last', async () => Date.now() > disabledAt + 3_000, 10_000, 100);

    proxy.restore();
    await waitFor(
      'Redis reachable again',
      async () => (await call(bk, '/health/ready')).status === 200,
      20_000,
      100,
    );
    expect((await userinfo(bk, target)).status).toBe(401);
    expect((await gql(bk, '{ me { id } }', target)).status).toBe(401);
  });
});

describe('PostgreSQL down (rule 18)', () => {
  let stub: JwksStub;
  let partner: JwksStub;
  let pg: RestartablePostgres;
  let bk: RunningBridgekeeper;
  const tokens: string[] = [];
  const token = async (s: JwksStub, aud: string, sub: string) => {
    const t = await s.token(aud, { sub });
    tokens.push(t);
    return t;
  };

  beforeAll(async () => {
    pg = await RestartablePostgres.start();
    [stub, partner] = await Promise.all([JwksStub.start(), JwksStub.start()]);
    bk = await startBridgekeeper({
      issuers: [
        stub.trustedIssuer('stub', AUD),
        partner.trustedIssuer('partner', PARTNER_AUD, { provisioning: 'existing' }),
      ],
      databaseUrl: pg.url,
      admins: ['stub:admin'],
    });
  });

  afterAll(async () => {
    try {
      expectNoTokenLogged(bk, tokens);
    } finally {
      await bk?.close();
      await pg?.destroy();
      await Promise.all([stub?.stop(), partner?.stop()]);
    }
  });

  function expectUnavailable(a: Answer): void {
    expect(a.status).toBe(503);
    expect(a.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(a.headers.get('www-authenticate')).toBeNull();
  }

  it('answers 503 with Retry-After (never 401 or 500), stays up, and recovers by itself', async () => {
    const admin = await token(stub, AUD, 'admin');
    expect((await userinfo(bk, admin)).status).toBe(200);
    await query(
      pg.url,
      "INSERT INTO actors (issuer_name, subject) VALUES ('partner', 'known-partner')",
    );
    const newcomer = await token(stub, AUD, 'newcomer');
    const unknownPartner = await token(partner, PARTNER_AUD, 'unknown-partner');
    const knownPartner = await token(partner, PARTNER_AUD, 'known-partner');

    await pg.down();

    // jit: cannot provision now, which is not the caller's fault.
    const rest = await userinfo(bk, newcomer);
    expectUnavailable(rest);
    expect(rest.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: expect.any(String),
    });
    expect(rest.text).not.toContain(newcomer.split('.')[2]);
    const post = await call(bk, '/oauth2/userinfo', newcomer, { method: 'POST', body: '{}' });
    expectUnavailable(post);
    // provisioning=existing: a database error is never read as "no such actor" (no 401)...
    expectUnavailable(await userinfo(bk, unknownPartner));
    // ...and an existing actor is not refused either.
    expectUnavailable(await userinfo(bk, knownPartner));
    // GraphQL authentication needing the database: HTTP 503 as on REST.
    const gqlNew = await gql(bk, '{ me { id } }', newcomer);
    expectUnavailable(gqlNew);
    expect(gqlNew.body).toMatchObject({
      errors: [{ extensions: { code: 'SERVICE_UNAVAILABLE' } }],
    });
    // A cached admin's operations that need the database: SERVICE_UNAVAILABLE, not a 500.
    for (const op of [
      '{ actors { totalCount } }',
      '{ actor(id: "00000000-0000-0000-0000-000000000000") { id } }',
      'mutation { enableActor(id: "00000000-0000-0000-0000-000000000000") { id } }',
    ]) {
      const res = await gql(bk, op, admin);
      expect(res.status).not.toBe(500);
      expect(res.status).not.toBe(401);
      expect(res.text).not.toContain('INTERNAL_SERVER_ERROR');
      expect(res.body).toMatchObject({ errors: [{ extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
    }

    // The browser endpoint answers with a page, not JSON (a browser shows it to a person).
    const page = await fetch(
      `${bk.url}/oauth2/authorize?client_id=never-seen-client&response_type=code&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb`,
      { redirect: 'manual' },
    );
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await page.text()).toContain('Temporarily unavailable');

    const ready = await call(bk, '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ error: { database: { status: 'down' } } });
    // The process stays up and keeps answering what needs no database.
    expect((await call(bk, '/health/live')).status).toBe(200);
    expect((await call(bk, '/metrics')).status).toBe(200);
    expect(
      await counter(bk, 'bridgekeeper_http_requests_total', {
        route: '/oauth2/userinfo',
        status: '503',
      }),
    ).toBeGreaterThanOrEqual(4);
    expect(
      await counter(bk, 'bridgekeeper_http_requests_total', {
        route: '/oauth2/userinfo',
        status: '500',
      }),
    ).toBe(0);

    await pg.up();
    await waitFor(
      'database recovery',
      async () => (await call(bk, '/health/ready')).status === 200,
      30_000,
      200,
    );
    const created = await userinfo(bk, newcomer);
    expect(created.status).toBe(200);
    expect((await userinfo(bk, knownPartner)).status).toBe(200);
    const refused = await userinfo(bk, unknownPartner);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect((await gql(bk, '{ actors { totalCount } }', admin)).body.errors).toBeUndefined();
    expect(
      await query(
        pg.url,
        "SELECT id FROM actors WHERE issuer_name = 'stub' AND subject = 'newcomer'",
      ),
    ).toEqual([{ id: created.body.sub }]);
    expect(
      await query(
        pg.url,
        "SELECT id FROM actors WHERE issuer_name = 'partner' AND subject = 'unknown-partner'",
      ),
    ).toEqual([]);
  });
});

describe('health and metrics', () => {
  let stub: JwksStub;
  let stranger: JwksStub;
  let bk: RunningBridgekeeper;
  const tokens: string[] = [];

  beforeAll(async () => {
    [stub, stranger] = await Promise.all([JwksStub.start(), JwksStub.start()]);
    bk = await startBridgekeeper({ issuers: [stub.trustedIssuer('stub', AUD)] });
  });

  afterAll(async () => {
    try {
      expectNoTokenLogged(bk, tokens);
    } finally {
      await bk?.close();
      await Promise.all([stub?.stop(), stranger?.stop()]);
    }
  });

  it('answers liveness and readiness without a token, and nothing else', async () => {
    const live = await call(bk, '/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });
    expect(live.headers.get('cache-control')).toBe('no-store');
    const ready = await call(bk, '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
    // Deny by default: the neighbours of public routes are not public.
    const userinfo401 = await call(bk, '/oauth2/userinfo');
    expect(userinfo401.status).toBe(401);
    expect(userinfo401.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('exposes request counts and token validations by issuer and outcome, without tokens or raw issuers', async () => {
    const good = await stub.token(AUD, { sub: 'metered' });
    const bad = `${good.slice(0, good.lastIndexOf('.') + 1)}${Buffer.alloc(256, 1).toString('base64url')}`;
    const foreign = await stranger.token(AUD, { sub: 'metered' });
    tokens.push(good, bad, foreign);
    const before = await scrape(bk);
    for (let i = 0; i < 3; i++) expect((await userinfo(bk, good)).status).toBe(200);
    expect((await userinfo(bk, bad)).status).toBe(401);
    expect((await userinfo(bk, foreign)).status).toBe(401);
    expect((await call(bk, '/oauth2/userinfo')).status).toBe(401);

    const res = await call(bk, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const after = res.text;
    const delta = (name: string, labels: Record<string, string>) =>
      sumSamples(after, name, labels) - sumSamples(before, name, labels);

    expect(after).toContain('# TYPE bridgekeeper_http_requests_total counter');
    expect(
      delta('bridgekeeper_http_requests_total', {
        method: 'GET',
        route: '/oauth2/userinfo',
        status: '200',
      }),
    ).toBe(3);
    expect(
      delta('bridgekeeper_http_requests_total', {
        method: 'GET',
        route: '/oauth2/userinfo',
        status: '401',
      }),
    ).toBe(3);

    expect(after).toContain('# TYPE bridgekeeper_token_validations_total counter');
    const v = (labels: Record<string, string>) =>
      delta('bridgekeeper_token_validations_total', labels);
    expect(v({ issuer: 'stub', outcome: 'valid' })).toBe(3);
    expect(v({ issuer: 'stub', outcome: 'valid', reason: 'verified' })).toBe(1);
    expect(v({ issuer: 'stub', outcome: 'valid', reason: 'cached' })).toBe(2);
    expect(v({ issuer: 'stub', outcome: 'invalid' })).toBe(1);
    expect(v({ outcome: 'invalid' })).toBe(2);
    // Label values come from closed sets: never a token, a claim or an untrusted `iss`.
    for (const t of [good, bad, foreign]) expect(after).not.toContain(t.split('.')[2]);
    expect(after).not.toContain(stranger.issuer);
    expect(after).not.toContain('metered');
  });
});
