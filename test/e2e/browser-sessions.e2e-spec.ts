import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { type RunningBridgekeeper, startTwoNodes } from '../support/bridgekeeper';
import { TestBrowser } from '../support/browser';
import { JwksStub } from '../support/jwks-stub';
import { waitFor } from '../support/ports';
import { query } from '../support/postgres';
import { type RedisServer, startRedis } from '../support/redis';

const PASSWORD = 'session test passphrase';

// Issue 9 §3 and SECURITY rule 23: server-side sessions shared by two nodes (one PostgreSQL, one
// Redis); logout, revokeSessions and disableActor end them on every node; login works with Redis down.
describe('browser sessions across nodes', () => {
  let stub: JwksStub;
  let redis: RedisServer;
  let a: RunningBridgekeeper;
  let b: RunningBridgekeeper;
  let admin: string;

  beforeAll(async () => {
    stub = await JwksStub.start();
    redis = await startRedis();
    [a, b] = await startTwoNodes({
      issuers: [{ name: 'stub', issuer: stub.issuer, jwks: stub.jwksUrl, audiences: 'aud' }],
      admins: ['stub:root'],
      redisUrl: redis.url,
    });
    admin = await stub.token('aud', { sub: 'root' });
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await Promise.all([stub?.stop(), redis?.stop()]);
  });

  let n = 0;
  /** A new account, signed in on node A; returns its browsers on node A and node B (one cookie jar). */
  async function signedIn(): Promise<{ onA: TestBrowser; onB: TestBrowser; actorId: string }> {
    n += 1;
    const username = `person${n}`;
    const { actorId } = await a.app
      .get(LocalAccountsService)
      .create({ username, password: PASSWORD });
    const onA = new TestBrowser(a.url);
    expect((await onA.submit('/login', { username, password: PASSWORD })).status).toBe(303);
    // Node B is the same deployment: same public URL (node A's), so the same Origin.
    const onB = new TestBrowser(b.url, new URL(a.url).origin);
    for (const [k, v] of onA.cookies) onB.cookies.set(k, v);
    expect(await isSignedIn(onB)).toBe(true);
    return { onA, onB, actorId };
  }

  async function isSignedIn(browser: TestBrowser): Promise<boolean> {
    const res = await browser.get('/login');
    return (await res.text()).includes('You are signed in');
  }

  it('stores only the SHA-256 of the session cookie', async () => {
    const { onA } = await signedIn();
    const cookie = onA.cookies.get('bk_session')!;
    const rows = await query(a.databaseUrl, 'SELECT * FROM browser_sessions');
    expect(JSON.stringify(rows)).not.toContain(cookie);
  });

  it('logout on one node ends the session on the other (CSRF-protected)', async () => {
    const { onA, onB } = await signedIn();
    const page = await onA.get('/logout');
    expect(await page.text()).toContain('Sign out');
    // Without the token: refused, still signed in.
    expect((await onA.post('/logout', {})).status).toBe(403);
    expect(await isSignedIn(onB)).toBe(true);
    const out = await onA.submit('/logout', {});
    expect(out.status).toBe(200);
    expect(out.headers.getSetCookie().some((c) => /^bk_session=;.*Max-Age=0/.test(c))).toBe(true);
    await waitFor('node B to see the logout', async () => !(await isSignedIn(onB)), 5000);
  });

  it('revokeSessions on node B ends the browser session made on node A', async () => {
    const { onA, actorId } = await signedIn();
    const res = await b.graphql(`mutation($id: ID!) { revokeSessions(actorId: $id) }`, admin, {
      id: actorId,
    });
    expect(res.body.errors).toBeUndefined();
    await waitFor('node A to refuse the session', async () => !(await isSignedIn(onA)), 5000);
  });

  it('disableActor ends the browser sessions of the actor on every node', async () => {
    const { onA, onB, actorId } = await signedIn();
    const res = await b.graphql(`mutation($id: ID!) { disableActor(id: $id) { status } }`, admin, {
      id: actorId,
    });
    expect(res.body.errors).toBeUndefined();
    await waitFor('node A to refuse the session', async () => !(await isSignedIn(onA)), 5000);
    expect(await isSignedIn(onB)).toBe(false);
    // A disabled actor cannot sign in again either (same answer as a wrong password).
    const again = await new TestBrowser(a.url).submit('/login', {
      username: `person${n}`,
      password: PASSWORD,
    });
    expect(again.status).toBe(401);
    // Enabling the actor again does not bring the ended sessions back: disabling ended them for good.
    const enabled = await b.graphql(
      `mutation($id: ID!) { enableActor(id: $id) { status } }`,
      admin,
      {
        id: actorId,
      },
    );
    expect(enabled.body.errors).toBeUndefined();
    expect(await isSignedIn(onA)).toBe(false);
    expect(await isSignedIn(onB)).toBe(false);
    const [row] = await query<{ ended: number }>(
      a.databaseUrl,
      'SELECT count(*)::int AS ended FROM browser_sessions WHERE actor_id = $1 AND ended_at IS NOT NULL',
      [actorId],
    );
    expect(row.ended).toBeGreaterThan(0);
  });

  it('signs in, and keeps sessions working, with Redis stopped', async () => {
    const { onA } = await signedIn();
    await redis.stop();
    try {
      expect(await isSignedIn(onA)).toBe(true);
      n += 1;
      await a.app.get(LocalAccountsService).create({ username: `person${n}`, password: PASSWORD });
      const fresh = new TestBrowser(a.url);
      const res = await fresh.submit('/login', { username: `person${n}`, password: PASSWORD });
      expect(res.status).toBe(303);
      expect(await isSignedIn(fresh)).toBe(true);
    } finally {
      redis = await startRedis({ port: redis.port });
    }
  });
});
