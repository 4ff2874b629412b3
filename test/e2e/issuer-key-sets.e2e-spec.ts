import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';
import { freePort, waitFor } from '../support/ports';
import { UserinfoStub } from '../support/userinfo-stub';

// Issue 12 bug 4: a wrong JWKS URL must not look like an outage forever. Tokens of an issuer whose keys
// cannot be fetched still get 503 (we cannot verify them), but the cause is visible: the issuer's key-set
// state in GraphQL, a log line with the issuer, the HTTP status and the URL, readiness "degraded" (still
// 200), and create/update refuse an endpoint that does not work unless the admin says "save anyway".
const AUD = 'bk-keysets';

const KEY_SETS = `{ trustedIssuers { name keySet {
  state keyCount lastSuccessAt lastAttemptAt nextRetryAt lastError { message httpStatus networkError at }
} } }`;
const CREATE = `mutation ($input: CreateTrustedIssuerInput!) {
  createTrustedIssuer(input: $input) { name jwksUrl keySet { state } }
}`;
const UPDATE = `mutation ($name: String!, $input: UpdateTrustedIssuerInput!) {
  updateTrustedIssuer(name: $name, input: $input) { name jwksUrl }
}`;

interface KeySetView {
  state: string;
  keyCount: number;
  lastSuccessAt: string | null;
  lastAttemptAt: string | null;
  nextRetryAt: string | null;
  lastError: {
    message: string;
    httpStatus: number | null;
    networkError: string | null;
    at: string;
  } | null;
}

describe('trusted issuer key sets: state, logs, readiness, checks on create and update', () => {
  let corp: JwksStub;
  let broken: JwksStub;
  let partner: JwksStub;
  let userinfo: UserinfoStub;
  let bk: RunningBridgekeeper;
  let admin: string;
  let brokenJwksUrl: string;
  /** A loopback port with nothing listening: connections are refused at once. */
  let deadUrl: string;

  beforeAll(async () => {
    [corp, broken, partner, userinfo] = await Promise.all([
      JwksStub.start(),
      JwksStub.start(),
      JwksStub.start(),
      UserinfoStub.start(),
    ]);
    brokenJwksUrl = `${broken.issuer}/jwks-that-is-not-there`; // the stub answers 404
    deadUrl = `http://127.0.0.1:${await freePort()}/jwks`;
    bk = await startBridgekeeper({
      issuers: [
        { name: 'corp', issuer: corp.issuer, jwks: corp.jwksUrl, audiences: AUD },
        // Configuration issuers are not checked at start (the node must start), but their state shows.
        { name: 'broken', issuer: broken.issuer, jwks: brokenJwksUrl, audiences: AUD },
      ],
      admins: ['corp:root'],
    });
    admin = await corp.token(AUD, { sub: 'root' });
  });

  afterAll(async () => {
    await bk?.close();
    await Promise.all([corp?.stop(), broken?.stop(), partner?.stop(), userinfo?.stop()]);
  });

  async function keySets(): Promise<Record<string, KeySetView | null>> {
    const res = await bk.graphql(KEY_SETS, admin);
    expect(res.body.errors).toBeUndefined();
    const list = res.body.data?.trustedIssuers as { name: string; keySet: KeySetView | null }[];
    return Object.fromEntries(list.map((i) => [i.name, i.keySet]));
  }

  const eventuallyState = (name: string, state: string) =>
    waitFor(
      `${name} key set ${state}`,
      async () => (await keySets())[name]?.state === state,
      15_000,
    );

  async function gqlError(query: string, variables: Record<string, unknown>) {
    const res = await bk.graphql(query, admin, variables);
    expect(res.body.errors?.length).toBeGreaterThan(0);
    return res.body.errors![0];
  }

  it('answers 503 for tokens of an issuer whose JWKS answers 404, and says why in GraphQL', async () => {
    const res = await bk.get('/oauth2/userinfo', await broken.token(AUD, { sub: 'b1' }));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);

    await eventuallyState('broken', 'FAILING');
    const states = await keySets();
    expect(states.broken).toMatchObject({
      state: 'FAILING',
      keyCount: 0,
      lastSuccessAt: null,
      lastAttemptAt: expect.any(String),
      lastError: {
        httpStatus: 404,
        networkError: null,
        message: 'JWKS answered HTTP 404',
        at: expect.any(String),
      },
    });
    expect(Date.parse(states.broken!.nextRetryAt!)).toBeGreaterThan(
      Date.parse(states.broken!.lastAttemptAt!),
    );
    // The healthy issuer next to it.
    expect(states.corp).toMatchObject({ state: 'OK', keyCount: 1, lastError: null });
    expect(states.corp!.lastSuccessAt).toEqual(expect.any(String));
  });

  it('logs the failure with the issuer, the HTTP status and the URL, never the token', async () => {
    const token = await broken.token(AUD, { sub: 'b2' });
    expect((await bk.get('/oauth2/userinfo', token)).status).toBe(503);
    const lines = bk.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.issuer === 'broken' && l.httpStatus === 404);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatchObject({ url: brokenJwksUrl });
    expect(String(lines[0].msg)).toContain('HTTP 404');
    expect(bk.logs.join('\n')).not.toContain(token);
  });

  it('reports the issuer as degraded on readiness without taking the node out', async () => {
    const ready = await bk.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      info: {
        database: { status: 'up' },
        issuers: { status: 'degraded', failing: ['broken'], stale: [] },
      },
    });
    // Tokens of the healthy issuer keep working.
    expect((await bk.get('/oauth2/userinfo', admin)).status).toBe(200);
  });

  it('refuses to create an issuer whose JWKS cannot be fetched, naming the field and the cause', async () => {
    const base = { name: 'partner', issuer: partner.issuer, audiences: [AUD] };
    const refused = await gqlError(CREATE, { input: { ...base, jwksUrl: deadUrl } });
    expect(refused.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      errorCode: 'ISSUER_UNREACHABLE',
    });
    expect(refused.message).toMatch(/^jwksUrl: JWKS cannot be reached \(ECONNREFUSED\)/);
    expect(refused.message).toContain('skipReachabilityCheck');
    expect(refused.message).not.toContain(deadUrl);

    const notFound = await gqlError(CREATE, {
      input: { ...base, jwksUrl: `${partner.issuer}/missing` },
    });
    expect(notFound.message).toMatch(/^jwksUrl: JWKS answered HTTP 404/);

    // 200, but not a key set (our own liveness answer), or no key for the issuer's algorithms.
    const notKeys = await gqlError(CREATE, {
      input: { ...base, jwksUrl: `${bk.url}/health/live` },
    });
    expect(notKeys.message).toMatch(/^jwksUrl: JWKS answered HTTP 200 but has no "keys" array/);
    const wrongAlg = await gqlError(CREATE, {
      input: { ...base, jwksUrl: partner.jwksUrl, algorithms: ['ES256'] },
    });
    expect(wrongAlg.message).toMatch(/^jwksUrl: .*no public signing key for ES256/);

    // A userinfo endpoint nobody answers at.
    const noUserinfo = await gqlError(CREATE, {
      input: { name: 'uinfo', issuer: 'https://uinfo.example.com', userinfoUrl: deadUrl },
    });
    expect(noUserinfo.extensions?.errorCode).toBe('ISSUER_UNREACHABLE');
    expect(noUserinfo.message).toMatch(/^userinfoUrl: userinfo endpoint cannot be reached/);

    const names = Object.keys(await keySets());
    expect(names.sort()).toEqual(['broken', 'corp']); // nothing was saved
  });

  it('accepts a userinfo endpoint that answers 401 without a token (it is there); no key set', async () => {
    const res = await bk.graphql(CREATE, admin, {
      input: { name: 'uinfo', issuer: 'https://uinfo.example.com', userinfoUrl: userinfo.url },
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.createTrustedIssuer).toEqual({
      name: 'uinfo',
      jwksUrl: null,
      keySet: null,
    });
  });

  it('saves an unreachable issuer when asked to, shows it failing, and shows OK once fixed', async () => {
    const token = await partner.token(AUD, { sub: 'p1' });
    const saved = await bk.graphql(CREATE, admin, {
      input: {
        name: 'partner',
        issuer: partner.issuer,
        jwksUrl: deadUrl,
        audiences: [AUD],
        skipReachabilityCheck: true,
      },
    });
    expect(saved.body.errors).toBeUndefined();
    expect(saved.body.data?.createTrustedIssuer).toMatchObject({
      name: 'partner',
      jwksUrl: deadUrl,
    });
    await eventuallyState('partner', 'FAILING');
    expect((await keySets()).partner?.lastError).toMatchObject({
      httpStatus: null,
      networkError: 'ECONNREFUSED',
    });
    expect((await bk.get('/oauth2/userinfo', token)).status).toBe(503);
    expect(await (await bk.get('/health/ready')).json()).toMatchObject({
      info: { issuers: { status: 'degraded', failing: ['broken', 'partner'] } },
    });

    // Changing the URL to another broken one is checked too, and refused without the flag.
    const refused = await gqlError(UPDATE, {
      name: 'partner',
      input: { jwksUrl: `${partner.issuer}/missing` },
    });
    expect(refused.message).toMatch(/^jwksUrl: JWKS answered HTTP 404/);
    // A change that does not touch the endpoints is not checked.
    const audiences = await bk.graphql(UPDATE, admin, {
      name: 'partner',
      input: { audiences: [AUD, 'other'] },
    });
    expect(audiences.body.errors).toBeUndefined();

    const fixed = await bk.graphql(UPDATE, admin, {
      name: 'partner',
      input: { jwksUrl: partner.jwksUrl },
    });
    expect(fixed.body.errors).toBeUndefined();
    await eventuallyState('partner', 'OK');
    expect((await keySets()).partner).toMatchObject({ keyCount: 1, lastError: null });
    expect((await bk.get('/oauth2/userinfo', token)).status).toBe(200);
    expect(await (await bk.get('/health/ready')).json()).toMatchObject({
      info: { issuers: { status: 'degraded', failing: ['broken'] } },
    });
  });
});
