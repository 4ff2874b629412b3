import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';
import { waitFor } from '../support/ports';

// SECURITY.md rules 9 and 20: JWKS refetch on unknown kid at most once per cooldown, rotation,
// stale-if-error while the IdP is down, and 503 (not 401) when an IdP cannot be reached.
const AUD = 'bridgekeeper-jwks';

describe('JWKS handling', () => {
  let stub: JwksStub;
  let bk: RunningBridgekeeper;

  beforeAll(async () => {
    stub = await JwksStub.start();
    bk = await startBridgekeeper({
      issuers: [stub.trustedIssuer('stub', AUD)],
      properties: { 'bridgekeeper.jwks.cooldown.seconds': '2' },
    });
  });

  afterAll(async () => {
    await bk?.close();
    await stub?.stop();
  });

  beforeEach(() => {
    stub.mode = 'ok';
  });

  const status = async (token: string) => (await bk.get('/oauth2/userinfo', token)).status;

  it('fetches the key set once at start, then serves many tokens without refetching', async () => {
    await waitFor('initial JWKS fetch', async () => stub.fetches >= 1);
    const before = stub.fetches;
    for (let i = 0; i < 20; i++) {
      expect(await status(await stub.token(AUD, { sub: `user-${i}` }))).toBe(200);
    }
    expect(stub.fetches).toBe(before);
  });

  it('refetches at most once per cooldown when flooded with unknown kids', async () => {
    // Let any earlier fetch's cooldown pass so the flood may trigger exactly one refetch.
    await new Promise((r) => setTimeout(r, 2100));
    const before = stub.fetches;
    const tokens = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        stub.token(AUD, { sub: 'flood' }, { header: { kid: `unknown-${i}-${Math.random()}` } }),
      ),
    );
    const statuses = await Promise.all(tokens.map(status));
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(stub.fetches - before).toBeLessThanOrEqual(1);
    const again = await Promise.all(tokens.slice(0, 20).map(status));
    expect(new Set(again)).toEqual(new Set([401]));
    expect(stub.fetches - before).toBeLessThanOrEqual(1);
  });

  it('follows a key rotation: new kid accepted after one refetch, removed key refused', async () => {
    const oldKey = stub.primary;
    const newKey = await stub.rotate();
    const fresh = await stub.token(AUD, { sub: 'rotated' }, { key: newKey });
    // Within the cooldown of the previous test's refetch the new kid may still be unknown; it becomes
    // valid as soon as one refetch is allowed.
    await waitFor('rotated key accepted', async () => (await status(fresh)) === 200, 10_000, 200);
    const signedWithOld = await stub.token(AUD, { sub: 'old-key-user' }, { key: oldKey });
    expect(await status(signedWithOld)).toBe(401);
  });

  it('keeps working with known keys while the IdP is down, and answers 503 for keys it cannot check', async () => {
    const known = stub.primary;
    stub.mode = 'down';
    // Force a failed refresh: an unknown kid after the cooldown triggers one fetch, which fails.
    await new Promise((r) => setTimeout(r, 2100));
    const unknownKid = await stub.token(
      AUD,
      { sub: 'x' },
      { header: { kid: 'not-yet-published' } },
    );
    const res = await bk.get('/oauth2/userinfo', unknownKid);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await res.json()) as { error: string }).error).toBe('temporarily_unavailable');
    // A token signed with a key we already have still verifies (stale-if-error).
    expect(await status(await stub.token(AUD, { sub: 'during-outage' }, { key: known }))).toBe(200);
    // And the IdP coming back restores everything without a restart.
    stub.mode = 'ok';
    await waitFor(
      'JWKS refetch after recovery',
      async () => (await status(await stub.token(AUD, { sub: 'after-outage' }))) === 200,
      10_000,
      200,
    );
    const metrics = await (await bk.get('/metrics')).text();
    expect(metrics).toMatch(
      /bridgekeeper_jwks_fetches_total\{issuer="stub",result="(?!ok)[a-z_]+"\} [1-9]/,
    );
    expect(metrics).toMatch(/bridgekeeper_jwks_fetches_total\{issuer="stub",result="ok"\} [1-9]/);
  });
});

describe('JWKS never reachable', () => {
  let stub: JwksStub;
  let bk: RunningBridgekeeper;

  beforeAll(async () => {
    stub = await JwksStub.start();
    stub.mode = 'error';
    bk = await startBridgekeeper({
      issuers: [stub.trustedIssuer('down', AUD)],
    });
  });

  afterAll(async () => {
    await bk?.close();
    await stub?.stop();
  });

  it('answers 503 with Retry-After (not 401) for a well-formed token of that issuer', async () => {
    const res = await bk.get('/oauth2/userinfo', await stub.token(AUD));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    const gql = await bk.graphql('{ me { id } }', await stub.token(AUD));
    expect(gql.status).toBe(503);
  });

  it('still answers 401 for a token that is invalid whatever the keys', async () => {
    const res = await bk.get(
      '/oauth2/userinfo',
      await stub.token(AUD, { iss: 'https://elsewhere' }),
    );
    expect(res.status).toBe(401);
  });
});
