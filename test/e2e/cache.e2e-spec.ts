import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { startBridgekeeper, startPeer, type RunningBridgekeeper } from '../support/bridgekeeper';
import { type GqlNode, disableActor, enableActor, setActorRoles } from '../support/gql-ops';
import { JwksStub } from '../support/jwks-stub';
import { counter } from '../support/metrics';
import { waitFor } from '../support/ports';
import { startRedis, type RedisServer } from '../support/redis';
import { userinfo as userinfoAt } from '../support/rest-ops';

// The same cache behaviour in-process and on Redis: a token is verified once, actor changes are seen on
// the next request (on every node sharing Redis, rule 13), and Redis never holds a token (rule 14).
// Real servers and several app instances start here: more than jest's 5 s default (the config's
// testTimeout is not a project option, so it does not apply).
jest.setTimeout(60_000);
const AUD = 'bk-cache';
const VALIDATIONS = 'bridgekeeper_token_validations_total';
const CACHE_OPS = 'bridgekeeper_cache_operations_total';

async function scanAll(client: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

describe.each(['memory', 'redis'] as const)('cache (%s)', (kind) => {
  let stub: JwksStub;
  let redis: RedisServer | undefined;
  let a: RunningBridgekeeper;
  let b: RunningBridgekeeper | undefined;
  let adminToken: string;
  const tokensUsed: string[] = [];

  beforeAll(async () => {
    stub = await JwksStub.start();
    redis = kind === 'redis' ? await startRedis() : undefined;
    const options = {
      issuers: [stub.trustedIssuer('stub', AUD)],
      admins: ['stub:admin'],
      redisUrl: redis?.url,
    };
    a = await startBridgekeeper(options);
    // With Redis, a second node sharing the database and the cache.
    if (redis) b = await startPeer(a, options);
    adminToken = await stub.token(AUD, { sub: 'admin' });
    tokensUsed.push(adminToken);
  });

  afterAll(async () => {
    try {
      for (const node of [a, b]) {
        const logs = node?.logs.join('\n') ?? '';
        expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
        for (const t of tokensUsed) expect(logs).not.toContain(t.split('.')[2]);
      }
    } finally {
      await b?.close();
      await a?.close();
      await redis?.stop();
      await stub?.stop();
    }
  });

  async function token(sub: string, claims: Record<string, unknown> = {}): Promise<string> {
    const t = await stub.token(AUD, { sub, ...claims });
    tokensUsed.push(t);
    return t;
  }

  const userinfo = (node: RunningBridgekeeper, t: string) =>
    userinfoAt<{ sub: string; roles: string[] }>(node, t);
  const disable = (node: GqlNode, id: string) => disableActor(node, adminToken, id);
  const enable = (node: GqlNode, id: string) => enableActor(node, adminToken, id);
  const setRoles = (node: GqlNode, id: string, roles: string[]) =>
    setActorRoles(node, adminToken, id, roles);

  const validations = (node: RunningBridgekeeper, reason: string) =>
    counter(node, VALIDATIONS, { issuer: 'stub', outcome: 'valid', reason });

  it('verifies a repeated token once and answers the rest from the cache', async () => {
    const t = await token(`repeat-${kind}`);
    const [v0, c0, h0] = await Promise.all([
      validations(a, 'verified'),
      validations(a, 'cached'),
      counter(a, CACHE_OPS, { cache: 'actor', result: 'hit' }),
    ]);
    for (let i = 0; i < 10; i++) expect((await userinfo(a, t)).status).toBe(200);
    expect((await validations(a, 'verified')) - v0).toBe(1);
    expect((await validations(a, 'cached')) - c0).toBe(9);
    // The actor itself came from the cache too after the first request.
    expect(
      (await counter(a, CACHE_OPS, { cache: 'actor', result: 'hit' })) - h0,
    ).toBeGreaterThanOrEqual(9);
  });

  it('verifies each distinct token of the same person once', async () => {
    const v0 = await validations(a, 'verified');
    const tokens = await Promise.all([0, 1, 2].map((i) => token(`multi-${kind}`, { jti: `${i}` })));
    for (const t of [...tokens, ...tokens]) expect((await userinfo(a, t)).status).toBe(200);
    expect((await validations(a, 'verified')) - v0).toBe(3);
  });

  it('never caches a refusal: an invalid token is checked, and refused, every time', async () => {
    const good = await token(`forged-${kind}`);
    const forged = `${good.slice(0, good.lastIndexOf('.') + 1)}${Buffer.alloc(256, 7).toString('base64url')}`;
    const i0 = await counter(a, VALIDATIONS, { issuer: 'stub', outcome: 'invalid' });
    for (let i = 0; i < 3; i++) expect((await userinfo(a, forged)).status).toBe(401);
    expect((await counter(a, VALIDATIONS, { issuer: 'stub', outcome: 'invalid' })) - i0).toBe(3);
    // And the genuine token still works after its forgeries were refused.
    expect((await userinfo(a, good)).status).toBe(200);
  });

  it('never serves a token from the cache past its exp', async () => {
    const now = Math.floor(Date.now() / 1000);
    const t = await token(`short-${kind}`, { iat: now, exp: now + 1 });
    expect((await userinfo(a, t)).status).toBe(200);
    // exp + the 60 s clock tolerance would still verify; the cache entry itself must be gone at exp.
    await waitFor('the token to expire', async () => Date.now() / 1000 > now + 1.2, 5_000, 100);
    const before = await validations(a, 'verified');
    expect((await userinfo(a, t)).status).toBe(200);
    expect((await validations(a, 'verified')) - before).toBe(1);
  });

  it('sees disable and enable on the next request despite the cached token and actor', async () => {
    const t = await token(`toggle-${kind}`);
    const { body } = await userinfo(a, t);
    expect((await userinfo(a, t)).status).toBe(200); // both caches warm
    await disable(a, body.sub);
    expect((await userinfo(a, t)).status).toBe(401);
    expect((await a.graphql('{ me { id } }', t)).status).toBe(401);
    await enable(a, body.sub);
    expect((await userinfo(a, t)).status).toBe(200);
  });

  it('sees new roles on the next request despite the cached actor', async () => {
    const t = await token(`roles-${kind}`);
    const { body } = await userinfo(a, t);
    expect(body.roles).toEqual([]);
    await setRoles(a, body.sub, ['AUDITOR']);
    expect((await userinfo(a, t)).body.roles).toEqual(['AUDITOR']);
  });

  if (kind === 'redis') {
    describe('on Redis', () => {
      it('keeps no token, signature or token segment in any key or value, and bounds entries by exp', async () => {
        const now = Math.floor(Date.now() / 1000);
        const t = await token('secretive', {
          email: 'secretive@example.com',
          iat: now,
          exp: now + 120,
        });
        expect((await userinfo(a, t)).status).toBe(200);
        const client = new Redis(redis!.url);
        try {
          const keys = await scanAll(client);
          expect(keys.length).toBeGreaterThan(0);
          const values = await Promise.all(keys.map((k) => client.get(k)));
          const everything = [...keys, ...values].join('\n');
          for (const used of tokensUsed) {
            const [header, payload, signature] = used.split('.');
            expect(everything).not.toContain(used);
            expect(everything).not.toContain(signature);
            expect(everything).not.toContain(payload);
            expect(everything).not.toContain(`${header}.${payload}`);
          }
          for (const k of keys) expect(k).toMatch(/^bk:[a-z]+:/);
          // Subjects are hashed in keys too.
          expect(keys.join('\n')).not.toContain('secretive');
          // The verified-token entry is keyed by SHA-256 and lives no longer than the token.
          const tokKey = `bk:tok:${createHash('sha256').update(t).digest('hex')}`;
          expect(keys).toContain(tokKey);
          const ttl = await client.pttl(tokKey);
          expect(ttl).toBeGreaterThan(0);
          expect(ttl).toBeLessThanOrEqual(120_000);
        } finally {
          client.disconnect();
        }
      });

      it('shares verified tokens between nodes: a token verified on one is not re-verified on the other', async () => {
        const t = await token('shared-verification');
        expect((await userinfo(a, t)).status).toBe(200);
        const [v0, c0] = await Promise.all([
          validations(b!, 'verified'),
          validations(b!, 'cached'),
        ]);
        expect((await userinfo(b!, t)).status).toBe(200);
        expect((await validations(b!, 'verified')) - v0).toBe(0);
        expect((await validations(b!, 'cached')) - c0).toBe(1);
      });

      it('applies disable, enable and roles made on one node on the other from its next request', async () => {
        const t = await token('two-nodes');
        const first = await userinfo(b!, t);
        expect(first.status).toBe(200);
        // Both nodes have the token and the actor cached.
        expect((await userinfo(a, t)).status).toBe(200);
        expect((await userinfo(b!, t)).status).toBe(200);

        await disable(a, first.body.sub);
        expect((await userinfo(b!, t)).status).toBe(401);
        expect((await b!.graphql('{ me { id } }', t)).status).toBe(401);
        expect((await userinfo(a, t)).status).toBe(401);

        await enable(b!, first.body.sub);
        expect((await userinfo(a, t)).status).toBe(200);
        expect((await userinfo(b!, t)).status).toBe(200);

        await setRoles(a, first.body.sub, ['ADMIN']);
        expect((await userinfo(b!, t)).body.roles).toEqual(['ADMIN']);
        expect((await b!.graphql('{ actors { totalCount } }', t)).body.errors).toBeUndefined();
        await setRoles(b!, first.body.sub, []);
        expect(
          (await a.graphql('{ actors { totalCount } }', t)).body.errors?.[0]?.extensions?.code,
        ).toBe('FORBIDDEN');
      });
    });
  }
});
