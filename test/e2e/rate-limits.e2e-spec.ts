import { startBridgekeeper, startPeer, type RunningBridgekeeper } from '../support/bridgekeeper';
import { createClient, type CreatedClient } from '../support/gql-ops';
import { JwksStub } from '../support/jwks-stub';
import { counter } from '../support/metrics';
import { startRedis, type RedisServer } from '../support/redis';

// Issue 13 §3: brakes on guessing at the token endpoint (and introspection), shared through Redis or
// per node in memory; a guessing client never blocks a legitimate one.
jest.setTimeout(90_000);
const AUD = 'bk-limits';
const FAILURES = 3;
const ADDRESS_FAILURES = 6;
const PER_CLIENT = 5;

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

/** A client-credentials request from `address` (the balancer's X-Forwarded-For; 127.0.0.1 is trusted). */
function tokenRequest(
  node: RunningBridgekeeper,
  address: string,
  id: string,
  secret: string,
): Promise<Response> {
  return fetch(`${node.url}/oauth2/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(id, secret),
      'x-forwarded-for': address,
    },
    body: 'grant_type=client_credentials',
  });
}

describe.each([['in memory (no Redis)'], ['through Redis']])('rate limits %s', (mode) => {
  const withRedis = mode === 'through Redis';
  let stub: JwksStub;
  let redis: RedisServer | undefined;
  let bk: RunningBridgekeeper;
  let peer: RunningBridgekeeper | undefined;
  let adminToken: string;
  let legit: CreatedClient;
  let other: CreatedClient;

  beforeAll(async () => {
    stub = await JwksStub.start();
    redis = withRedis ? await startRedis() : undefined;
    const options = {
      issuers: [stub.trustedIssuer('idp', AUD)],
      admins: ['idp:root'],
      ...(redis ? { redisUrl: redis.url } : {}),
      properties: {
        'bridgekeeper.http.trusted.proxies': '127.0.0.1',
        'bridgekeeper.rate.limit.client.auth.failures': String(FAILURES),
        'bridgekeeper.rate.limit.client.auth.failures.per.address': String(ADDRESS_FAILURES),
        'bridgekeeper.rate.limit.token.per.client': String(PER_CLIENT),
        'bridgekeeper.rate.limit.window.seconds': '300',
      },
    };
    bk = await startBridgekeeper(options);
    if (redis) peer = await startPeer(bk, options);
    adminToken = await stub.token(AUD, { sub: 'root' });
    legit = await createClient(bk, adminToken, { name: 'legit' });
    other = await createClient(bk, adminToken, { name: 'other' });
  });

  afterAll(async () => {
    await peer?.close();
    await bk?.close();
    await redis?.stop();
    await stub?.stop();
  });

  it('slows a guessing client down with 429 slow_down and Retry-After, without hurting the client it guesses at', async () => {
    const guesser = '203.0.113.7';
    const expectSlowDown = async (res: Response) => {
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toMatchObject({ error: 'slow_down' });
    };
    // A known client id and an unknown one get the same brake, before any lookup.
    for (const id of [legit.client.clientId, 'bkc_doesnotexistatall00000']) {
      for (let i = 0; i < FAILURES; i++) {
        expect((await tokenRequest(bk, guesser, id, `bks_guess${i}`)).status).toBe(401);
      }
      await expectSlowDown(await tokenRequest(bk, guesser, id, 'bks_guess'));
    }
    // The legitimate client, from its own address, is not affected by the guesser's failures.
    const ok = await tokenRequest(bk, '198.51.100.20', legit.client.clientId, legit.clientSecret!);
    expect(ok.status).toBe(200);
    // Guessing across client ids: the address's own, higher limit (6 failures so far).
    await expectSlowDown(await tokenRequest(bk, guesser, 'bkc_yetanotherguess00000000', 'x'));
    expect(
      await counter(bk, 'bridgekeeper_rate_limited_total', { limit: 'client-auth-failures' }),
    ).toBeGreaterThan(0);
    expect(
      await counter(bk, 'bridgekeeper_oauth_token_requests_total', { outcome: 'slow_down' }),
    ).toBeGreaterThan(0);
  });

  it('slows a misconfigured client down without hurting another client behind the same address', async () => {
    const shared = '198.51.100.40';
    for (let i = 0; i < FAILURES; i++) {
      expect((await tokenRequest(bk, shared, other.client.clientId, 'bks_stale')).status).toBe(401);
    }
    expect((await tokenRequest(bk, shared, other.client.clientId, 'bks_stale')).status).toBe(429);
    const neighbour = await tokenRequest(bk, shared, legit.client.clientId, legit.clientSecret!);
    expect(neighbour.status).toBe(200);
  });

  it('limits each authenticated client on its own: one over its limit, another from the same address goes on', async () => {
    const address = '198.51.100.30';
    const statuses: number[] = [];
    for (let i = 0; i < PER_CLIENT + 1; i++) {
      statuses.push(
        (await tokenRequest(bk, address, other.client.clientId, other.clientSecret!)).status,
      );
    }
    expect(statuses.slice(0, PER_CLIENT - 1).every((s) => s === 200)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const another = await tokenRequest(bk, address, legit.client.clientId, legit.clientSecret!);
    expect(another.status).toBe(200);
  });

  if (withRedis) {
    it('shares the counts between nodes through Redis', async () => {
      const guesser = '203.0.113.99';
      for (let i = 0; i < FAILURES; i++) {
        expect((await tokenRequest(bk, guesser, legit.client.clientId, 'bks_wrong')).status).toBe(
          401,
        );
      }
      const elsewhere = await tokenRequest(peer!, guesser, legit.client.clientId, 'bks_wrong');
      expect(elsewhere.status).toBe(429);
    });
  }
});

describe('set-password links under the login throttle', () => {
  let bk: RunningBridgekeeper;

  beforeAll(async () => {
    bk = await startBridgekeeper({
      issuers: [],
      properties: {
        'bridgekeeper.http.trusted.proxies': '127.0.0.1',
        'bridgekeeper.auth.login.max.failures.per.address': '3',
      },
    });
  });

  afterAll(async () => {
    await bk?.close();
  });

  const open = (address: string, token: string) =>
    fetch(`${bk.url}/login/set-password?token=${token}`, {
      headers: { 'x-forwarded-for': address },
      redirect: 'manual',
    });

  it('slows down an address guessing links, not the others', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await open('203.0.113.50', `guess${i}`)).status);
    expect(statuses).toEqual([404, 404, 429, 429]);
    const locked = await open('203.0.113.50', 'another');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await locked.text()).toContain('Try again in');
    expect((await open('198.51.100.60', 'guess')).status).toBe(404);
  });
});
