import { ActorsService } from 'src/actors/actors.service';
import { startBridgekeeper, startPeer, type RunningBridgekeeper } from '../support/bridgekeeper';
import { TestBrowser } from '../support/browser';
import { createTestDatabase, query } from '../support/postgres';

const PASSWORD = 'first admin passphrase';

function printedSetupSecret(bk: RunningBridgekeeper): string | undefined {
  for (const line of bk.logs) {
    const m = /\/setup\/([A-Za-z0-9_-]{43})/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

// Issue 9 §1: the first administrator, from a printed one-time link or a configured bootstrap secret.
describe('first-administrator setup', () => {
  describe('with the printed link', () => {
    let bk: RunningBridgekeeper;

    beforeAll(async () => {
      bk = await startBridgekeeper({ issuers: [] });
    });

    afterAll(async () => {
      await bk?.close();
    });

    it('prints the link once, in a box, and stores only its hash', async () => {
      const secret = printedSetupSecret(bk)!;
      expect(secret).toBeDefined();
      const line = bk.logs.find((l) => l.includes(`/setup/${secret}`))!;
      expect(line).toContain(`${bk.url}/setup/${secret}`);
      expect(line).toContain('to create the first administrator');
      expect(line).toContain('╔');
      const rows = await query<{ secret_sha256: string; purpose: string }>(
        bk.databaseUrl,
        'SELECT secret_sha256, purpose FROM one_time_links',
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].purpose).toBe('SETUP');
      expect(rows[0].secret_sha256).not.toContain(secret);
      expect(JSON.stringify(rows)).not.toContain(secret);
    });

    it('refuses a wrong secret with 404', async () => {
      const b = new TestBrowser(bk.url);
      expect((await b.get(`/setup/${'A'.repeat(43)}`)).status).toBe(404);
      expect((await b.get('/setup/short')).status).toBe(404);
      expect((await b.get('/setup')).status).toBe(404);
    });

    it('keeps the link valid when another node of the deployment starts and prints its own', async () => {
      const first = printedSetupSecret(bk)!;
      const peer = await startPeer(bk, { issuers: [] });
      try {
        const second = printedSetupSecret(peer)!;
        expect(second).toBeDefined();
        expect(second).not.toBe(first);
        for (const secret of [first, second]) {
          const res = await new TestBrowser(bk.url).get(`/setup/${secret}`);
          expect(res.status).toBe(303);
        }
      } finally {
        await peer.close();
      }
    });

    it('creates the first ADMIN local account, signs them in, and then is gone (404)', async () => {
      const secret = printedSetupSecret(bk)!;
      const b = new TestBrowser(bk.url);
      const open = await b.get(`/setup/${secret}`);
      // The secret leaves the URL at once, without a Referer.
      expect(open.status).toBe(303);
      expect(open.headers.get('location')).toBe('/setup');
      expect(open.headers.get('referrer-policy')).toBe('no-referrer');
      expect(open.headers.get('cache-control')).toBe('no-store');
      const form = await b.get('/setup');
      expect(form.status).toBe(200);
      expect(form.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      const html = await form.text();
      expect(html).toContain('<label for="username">');
      expect(html).toContain('<label for="password">');
      // The password policy: too short, then too common.
      const short = await b.submit('/setup', {
        username: 'root',
        password: 'short',
        confirm: 'short',
      });
      expect(short.status).toBe(400);
      expect(await short.text()).toContain('at least 12 characters');
      const common = await b.submit('/setup', {
        username: 'root',
        password: 'password1234',
        confirm: 'password1234',
      });
      expect(common.status).toBe(400);
      expect(await common.text()).toContain('too common');
      const mismatch = await b.submit('/setup', {
        username: 'root',
        password: PASSWORD,
        confirm: `${PASSWORD}!`,
      });
      expect(mismatch.status).toBe(400);
      const done = await b.submit('/setup', {
        username: 'Root',
        email: 'root@example.com',
        display_name: 'Ruth Root',
        password: PASSWORD,
        confirm: PASSWORD,
      });
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toBe('/login');
      expect(b.cookies.has('bk_session')).toBe(true);
      const signedIn = await b.get('/login');
      expect(await signedIn.text()).toContain('Ruth Root');
      // The actor: built-in issuer, subject = the account id (not the username), ADMIN.
      const [account] = await query<{ id: string; actor_id: string }>(
        bk.databaseUrl,
        "SELECT id, actor_id FROM local_accounts WHERE username = 'Root'",
      );
      const actor = (await bk.app.get(ActorsService).findById(account.actor_id))!;
      expect(actor).toMatchObject({ issuerName: 'bridgekeeper', subject: account.id });
      expect(actor.roles).toEqual(['ADMIN']);
      // Setup is gone.
      const again = new TestBrowser(bk.url);
      expect((await again.get(`/setup/${secret}`)).status).toBe(404);
      expect((await b.get('/setup')).status).toBe(404);
      // The new administrator signs in with the password.
      const login = new TestBrowser(bk.url);
      const res = await login.submit('/login', { username: 'root', password: PASSWORD });
      expect(res.status).toBe(303);
    });
  });

  describe('with bridgekeeper.auth.bootstrap.secret', () => {
    const configured = 'b00tstrap-Secret-for-the-e2e-test-0123456789';
    let bk: RunningBridgekeeper;

    beforeAll(async () => {
      bk = await startBridgekeeper({
        issuers: [],
        databaseUrl: await createTestDatabase(),
        properties: { 'bridgekeeper.auth.bootstrap.secret': configured },
      });
    });

    afterAll(async () => {
      await bk?.close();
    });

    it('prints no link and never the secret', () => {
      expect(printedSetupSecret(bk)).toBeUndefined();
      expect(bk.logs.join('\n')).not.toContain(configured);
      expect(bk.logs.join('\n')).toContain('bridgekeeper.auth.bootstrap.secret');
    });

    it('makes exactly one administrator when two setup forms are sent at once', async () => {
      const browsers = [new TestBrowser(bk.url), new TestBrowser(bk.url)];
      const forms = await Promise.all(
        browsers.map(async (b, i) => {
          expect((await b.get(`/setup/${configured}`)).status).toBe(303);
          return { b, i };
        }),
      );
      const results = await Promise.all(
        forms.map(({ b, i }) =>
          b.submit('/setup', { username: `admin${i}`, password: PASSWORD, confirm: PASSWORD }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([303, 404]);
      const admins = await query<{ n: string }>(
        bk.databaseUrl,
        "SELECT count(*) AS n FROM actors WHERE 'ADMIN' = ANY(roles)",
      );
      expect(Number(admins[0].n)).toBe(1);
      expect((await new TestBrowser(bk.url).get(`/setup/${configured}`)).status).toBe(404);
    });
  });
});
