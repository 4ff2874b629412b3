import { Client } from 'pg';
import Redis from 'ioredis';
import { currentAuditRequest } from 'src/audit/audit-context';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';
import { startRedis, type RedisServer } from '../support/redis';

// Issue 13 §5: what a warm validated request costs in PostgreSQL and Redis round trips, measured on a
// real PostgreSQL and a real redis-server. Every query and command is counted where the drivers send it
// (pg's Client.query, ioredis' sendCommand) and attributed to the request being served through its
// request id (the audit context), so the nodes' background polls are not counted.
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

  const note = (into: Map<string, string[]>, what: string) => {
    const id = currentAuditRequest()?.id;
    if (id?.startsWith('probe-')) into.set(id, [...(into.get(id) ?? []), what]);
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
      const res = await fetch(`${bk.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, 'x-request-id': id, ...init.headers },
      });
      expect(res.status).toBe(200);
      await res.text();
    };
    await probe('probe-cold', '/oauth2/userinfo');
    for (let i = 0; i < 3; i++) await probe(`warmup-${i}`, '/oauth2/userinfo');
    await probe('probe-warm-userinfo', '/oauth2/userinfo');
    await probe('probe-warm-graphql', '/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    const report = ['probe-cold', 'probe-warm-userinfo', 'probe-warm-graphql'].map(
      (id) =>
        `${id}: PostgreSQL ${pgQueries.get(id)?.length ?? 0} (${(pgQueries.get(id) ?? []).map((q) => q.slice(0, 40)).join(' | ')}), ` +
        `Redis ${redisCommands.get(id)?.length ?? 0} (${(redisCommands.get(id) ?? []).join(', ')})`,
    );
    process.stdout.write(`warm path cost:\n  ${report.join('\n  ')}\n`);
    // The cold request did reach the database (the counter works), the warm ones never do.
    expect(pgQueries.get('probe-cold')?.length ?? 0).toBeGreaterThan(0);
    expect(pgQueries.get('probe-warm-userinfo') ?? []).toEqual([]);
    expect(pgQueries.get('probe-warm-graphql') ?? []).toEqual([]);
    // Redis: at most the shared-cache reads this test documents in docs/scale.md.
    expect(redisCommands.get('probe-warm-userinfo')?.length ?? 0).toBeLessThanOrEqual(1);
    expect(redisCommands.get('probe-warm-graphql')?.length ?? 0).toBeLessThanOrEqual(1);
  });
});
