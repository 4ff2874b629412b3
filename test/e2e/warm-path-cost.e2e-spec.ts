import { Client } from 'pg';
import Redis from 'ioredis';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';
import { startRedis, type RedisServer } from '../support/redis';

// Issue 13 §5: what a warm validated request costs in PostgreSQL and Redis round trips, measured on a
// real PostgreSQL and a real redis-server. Every query and command is counted where the drivers send it
// (pg's Client.query, ioredis' sendCommand) while one request is in flight (requests are sequential).
// The node's background polls (revocations, issuers, keys) may fall into a window and only ever add,
// so a warm request's cost is the minimum over many identical requests.
jest.setTimeout(60_000);
const AUD = 'bk-cost';

describe('the warm path costs no PostgreSQL round trip', () => {
  let stub: JwksStub;
  let redis: RedisServer;
  let bk: RunningBridgekeeper;
  const pgQueries = new Map<string, string[]>();
  const redisCommands = new Map<string, string[]>();
  const originalQuery = Client.prototype.query;
  const originalSend = Redis.prototype.sendCommand;

  let inFlight: string | undefined;
  const note = (into: Map<string, string[]>, what: string) => {
    if (inFlight) into.set(inFlight, [...(into.get(inFlight) ?? []), what]);
  };

  beforeAll(async () => {
    Client.prototype.query = function (this: Client, ...args: unknown[]) {
      const q = args[0];
      note(pgQueries, typeof q === 'string' ? q : String((q as { text?: string })?.text));
      return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof Client.prototype.query;
    Redis.prototype.sendCommand = function (this: Redis, ...args: unknown[]) {
      // The command and its key's namespace (never the rest of the key: it may hold a token hash).
      const c = args[0] as { name: string; args?: unknown[] };
      note(
        redisCommands,
        `${c.name} ${String(c.args?.[0] ?? '')
          .split(':')
          .slice(0, 2)
          .join(':')}`,
      );
      return (originalSend as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof Redis.prototype.sendCommand;
    [stub, redis] = await Promise.all([JwksStub.start(), startRedis()]);
    bk = await startBridgekeeper({
      issuers: [stub.trustedIssuer('idp', AUD)],
      admins: ['idp:root'],
      redisUrl: redis.url,
    });
  });

  afterAll(async () => {
    Client.prototype.query = originalQuery;
    Redis.prototype.sendCommand = originalSend;
    await bk?.close();
    await redis?.stop();
    await stub?.stop();
  });

  it('counts the round trips of a cold and a warm GET /oauth2/userinfo and GraphQL me', async () => {
    const token = await stub.token(AUD, { sub: 'warm-person', email: 'w@example.com' });
    const probe = async (id: string, path: string, init: RequestInit = {}) => {
      inFlight = id;
      try {
        const res = await fetch(`${bk.url}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${token}`, ...init.headers },
        });
        expect(res.status).toBe(200);
        await res.text();
      } finally {
        inFlight = undefined;
      }
    };
    const graphqlMe = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    };
    await probe('cold', '/oauth2/userinfo');
    for (let i = 0; i < 3; i++) await probe(`warmup-${i}`, '/oauth2/userinfo');
    const ROUNDS = 20;
    for (let i = 0; i < ROUNDS; i++) {
      await probe(`userinfo-${i}`, '/oauth2/userinfo');
      await probe(`graphql-${i}`, '/graphql', graphqlMe);
    }
    /** The fewest queries/commands of one kind of warm request, with that request's list. */
    const fewest = (into: Map<string, string[]>, kind: string): string[] =>
      Array.from({ length: ROUNDS }, (_, i) => into.get(`${kind}-${i}`) ?? []).reduce((a, b) =>
        b.length < a.length ? b : a,
      );
    const cost = (kind: string) => ({
      pg: fewest(pgQueries, kind),
      redis: fewest(redisCommands, kind),
    });
    const cold = { pg: pgQueries.get('cold') ?? [], redis: redisCommands.get('cold') ?? [] };
    const userinfo = cost('userinfo');
    const graphql = cost('graphql');
    const line = (name: string, c: { pg: string[]; redis: string[] }) =>
      `${name}: PostgreSQL ${c.pg.length} (${c.pg.map((q) => q.slice(0, 40)).join(' | ')}), Redis ${c.redis.length} (${c.redis.join(', ')})`;
    process.stdout.write(
      `warm path cost (fewest over ${ROUNDS} requests):\n  ${[
        line('cold GET /oauth2/userinfo', cold),
        line('warm GET /oauth2/userinfo', userinfo),
        line('warm POST /graphql { me { id } }', graphql),
      ].join('\n  ')}\n`,
    );
    // The cold request did reach the database (the counter works), the warm ones never do.
    expect(cold.pg.length).toBeGreaterThan(0);
    expect(userinfo.pg).toEqual([]);
    expect(graphql.pg).toEqual([]);
    // Redis: one shared-cache read (docs/scale.md).
    expect(userinfo.redis.length).toBeLessThanOrEqual(1);
    expect(graphql.redis.length).toBeLessThanOrEqual(1);
  });
});
