import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { BrowserSessionsService } from 'src/browser-sessions/browser-sessions.service';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseForm, TestBrowser } from '../support/browser';
import { counter } from '../support/metrics';
import { query } from '../support/postgres';

const AUTHORIZE = '/oauth2/authorize?client_id=app&response_type=code&state=xyz';

// Issue 9 §3: the login page, browser sessions, CSRF and Origin checks, throttling (SECURITY 22, 23).
describe('login page and browser sessions', () => {
  let bk: RunningBridgekeeper;
  let actorId: string;

  beforeAll(async () => {
    bk = await startBridgekeeper({
      issuers: [],
      properties: {
        'bridgekeeper.auth.login.max.failures.per.account': '3',
        'bridgekeeper.auth.login.lockout.seconds': '120',
      },
    });
    const accounts = bk.app.get(LocalAccountsService);
    ({ actorId } = await accounts.create({
      username: 'Alice',
      email: 'alice@example.com',
      displayName: 'Alice Liddell',
      password: 'a long enough passphrase',
    }));
  });

  afterAll(async () => {
    await bk?.close();
  });

  it('shows a labelled form with the security headers and a CSRF token', async () => {
    const b = new TestBrowser(bk.url);
    const res = await b.get(`/login?return_to=${encodeURIComponent(AUTHORIZE)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const text = await res.text();
    expect(text).toContain('<label for="username">');
    expect(text).toContain('<label for="password">');
    expect(text).toContain('Bridgekeeper');
    expect(text).not.toMatch(/<script|style=/);
    const form = parseForm(text)!;
    expect(form.hidden.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(form.hidden.return_to).toBe(AUTHORIZE);
    // Browsers apply form-action to the redirects after the post: the client's origin is allowed.
    const withRedirect = await b.get(
      `/login?return_to=${encodeURIComponent(`${AUTHORIZE}&redirect_uri=${encodeURIComponent('https://app.example/cb')}`)}`,
    );
    expect(withRedirect.headers.get('content-security-policy')).toContain(
      "form-action 'self' https://app.example;",
    );
    // The authorization request's login_hint prefills the username (escaped).
    const hinted = await b.get(
      `/login?return_to=${encodeURIComponent(`${AUTHORIZE}&login_hint=${encodeURIComponent('al"ice')}`)}`,
    );
    expect(await hinted.text()).toContain('value="al&quot;ice"');
    const css = await b.get('/assets/bridgekeeper.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('signs in (case-insensitive username) with a 303 back to return_to and a safe cookie', async () => {
    const b = new TestBrowser(bk.url);
    const res = await b.submit(`/login?return_to=${encodeURIComponent(AUTHORIZE)}`, {
      username: 'ALICE',
      password: 'a long enough passphrase',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(AUTHORIZE);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('bk_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    // The session is visible to the provider through BrowserSessionsService.current.
    const sessions = bk.app.get(BrowserSessionsService);
    const session = await sessions.current({
      headers: { cookie: b.cookieHeader() },
    } as never);
    expect(session).toMatchObject({ actorId, amr: ['pwd'] });
    // With a live session, /login goes straight back; prompt=login forces the form.
    const again = await b.get(`/login?return_to=${encodeURIComponent(AUTHORIZE)}`);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe(AUTHORIZE);
    const forced = await b.get(`/login?return_to=${encodeURIComponent(AUTHORIZE)}&prompt=login`);
    expect(forced.status).toBe(200);
    expect(await forced.text()).toContain('name="password"');
  });

  it('rotates the session id at login (a planted or previous session is ended)', async () => {
    const b = new TestBrowser(bk.url);
    await b.submit('/login', { username: 'alice', password: 'a long enough passphrase' });
    const first = b.cookies.get('bk_session')!;
    const sessions = bk.app.get(BrowserSessionsService);
    const before = await sessions.current({ headers: { cookie: `bk_session=${first}` } } as never);
    expect(before).not.toBeNull();
    const relogin = await b.submit('/login?prompt=login', {
      username: 'alice@example.com',
      password: 'a long enough passphrase',
    });
    expect(relogin.status).toBe(303);
    const second = b.cookies.get('bk_session')!;
    expect(second).not.toBe(first);
    expect(
      await sessions.current({ headers: { cookie: `bk_session=${first}` } } as never),
    ).toBeNull();
    const after = await sessions.current({ headers: { cookie: `bk_session=${second}` } } as never);
    expect(after!.id).not.toBe(before!.id);
  });

  it('refuses open redirects in return_to', async () => {
    const b = new TestBrowser(bk.url);
    for (const bad of [
      'https://evil.example/',
      '//evil.example/oauth2/authorize',
      '/admin',
      '/oauth2/authorizex',
    ]) {
      const res = await b.get(`/login?return_to=${encodeURIComponent(bad)}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
    }
  });

  it('refuses a POST without the CSRF token, with a token of another browser, or from another origin', async () => {
    const b = new TestBrowser(bk.url);
    const page = await b.get('/login');
    const { hidden } = parseForm(await page.text())!;
    const creds = { username: 'alice', password: 'a long enough passphrase' };
    expect((await b.post('/login', creds)).status).toBe(403);
    const other = new TestBrowser(bk.url);
    await other.get('/login');
    expect((await other.post('/login', { ...creds, csrf: hidden.csrf })).status).toBe(403);
    const crossSite = await b.post(
      '/login',
      { ...creds, ...hidden },
      { origin: 'https://evil.example' },
    );
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.getSetCookie().some((c) => c.startsWith('bk_session='))).toBe(false);
    // The same form from our own origin works.
    expect((await b.post('/login', { ...creds, ...hidden })).status).toBe(303);
  });

  it('answers an unknown user and a wrong password alike, and logs no password', async () => {
    const b = new TestBrowser(bk.url);
    const unknown = await b.submit('/login', {
      username: 'nobody',
      password: 'Secret-Pa55word-xyz',
    });
    const wrong = await b.submit('/login', {
      username: 'bob-unknown',
      password: 'Secret-Pa55word-xyz',
    });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const strip = (t: string) => t.replace(/value="[^"]*"/g, '');
    expect(strip(await unknown.text())).toBe(strip(await wrong.text()));
    expect(bk.logs.join('\n')).not.toContain('Secret-Pa55word-xyz');
    expect(bk.logs.join('\n')).not.toContain('a long enough passphrase');
  });

  it('SECURITY rule 22: argon2id with the OWASP parameters, never returned', async () => {
    const rows = await query<{ password_hash: string }>(
      bk.databaseUrl,
      "SELECT password_hash FROM local_accounts WHERE username = 'Alice'",
    );
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const schema = readFileSync(join(__dirname, '..', '..', 'schema.gql'), 'utf8');
    expect(schema).not.toMatch(/passwordHash|password_hash/i);
  });

  it('SECURITY rule 22: throttles failures per account, says when to retry, and counts logins', async () => {
    const accounts = bk.app.get(LocalAccountsService);
    await accounts.create({ username: 'carol', password: 'carol passphrase 1' });
    const failuresBefore = await counter(bk, 'bridgekeeper_logins_total', { result: 'failure' });
    const b = new TestBrowser(bk.url);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(
        (await b.submit('/login', { username: 'Carol', password: `wrong ${i}` })).status,
      );
    }
    expect(statuses).toEqual([401, 401, 429]);
    // Locked: even the right password is refused until the window ends, with a clear message.
    const locked = await b.submit('/login', { username: 'carol', password: 'carol passphrase 1' });
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(120);
    expect(await locked.text()).toMatch(/Try again in \d+ seconds\./);
    // Another account from the same address is not locked out.
    const other = await new TestBrowser(bk.url).submit('/login', {
      username: 'alice',
      password: 'a long enough passphrase',
    });
    expect(other.status).toBe(303);
    expect(await counter(bk, 'bridgekeeper_logins_total', { result: 'failure' })).toBe(
      failuresBefore + 3,
    );
    expect(
      await counter(bk, 'bridgekeeper_logins_total', { result: 'locked' }),
    ).toBeGreaterThanOrEqual(2);
    expect(await counter(bk, 'bridgekeeper_logins_total', { result: 'success' })).toBeGreaterThan(
      0,
    );
    const events = bk.logs.filter((l) => l.includes('"event":"login.'));
    expect(events.some((l) => l.includes('"event":"login.locked"'))).toBe(true);
    expect(events.some((l) => l.includes('"event":"login.success"'))).toBe(true);
    // No login name, password or cookie in any login event.
    expect(events.join('\n')).not.toMatch(/carol|wrong \d|bk_session=/i);
  });
});

// SECURITY rule 23 on an https deployment: `__Host-` cookies with `Secure`; the Origin check follows
// the public URL; failures are throttled per client address too.
describe('login on an https public URL', () => {
  const publicUrl = 'https://login.example.test';
  let bk: RunningBridgekeeper;

  beforeAll(async () => {
    bk = await startBridgekeeper({
      issuers: [],
      properties: {
        'bridgekeeper.public.url': publicUrl,
        'bridgekeeper.auth.login.max.failures.per.address': '3',
      },
    });
    await bk.app
      .get(LocalAccountsService)
      .create({ username: 'dave', password: 'dave passphrase 1' });
  });

  afterAll(async () => {
    await bk?.close();
  });

  it('SECURITY rule 23: __Host- prefixed, Secure, HttpOnly, SameSite=Lax cookies', async () => {
    const b = new TestBrowser(bk.url, publicUrl);
    const page = await b.get('/login');
    const csrfCookie = page.headers.getSetCookie()[0];
    expect(csrfCookie).toMatch(/^__Host-bk_csrf=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure/);
    const res = await b.submit('/login', { username: 'dave', password: 'dave passphrase 1' });
    expect(res.status).toBe(303);
    const session = res.headers.getSetCookie().find((c) => c.startsWith('__Host-bk_session='))!;
    expect(session).toMatch(/; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=\d+$/);
    expect(session).not.toMatch(/Domain=/i);
    // The loopback origin is not this deployment's origin.
    const wrongOrigin = new TestBrowser(bk.url);
    expect(
      (await wrongOrigin.submit('/login', { username: 'dave', password: 'dave passphrase 1' }))
        .status,
    ).toBe(403);
  });

  it('SECURITY rule 22: throttles failures per client address across usernames', async () => {
    const b = new TestBrowser(bk.url, publicUrl);
    const statuses: number[] = [];
    for (const username of ['x1', 'x2', 'x3', 'dave']) {
      statuses.push((await b.submit('/login', { username, password: 'not the password' })).status);
    }
    expect(statuses).toEqual([401, 401, 429, 429]);
  });
});

// Behind a reverse proxy, the per-address limit must key on the client, not on the proxy: one person's
// failures never lock out everybody else (SECURITY rule 27).
describe('login behind a trusted reverse proxy', () => {
  let bk: RunningBridgekeeper;

  beforeAll(async () => {
    bk = await startBridgekeeper({
      issuers: [],
      properties: {
        'bridgekeeper.http.trusted.proxies': '127.0.0.1',
        'bridgekeeper.auth.login.max.failures.per.address': '2',
      },
    });
  });

  afterAll(async () => {
    await bk?.close();
  });

  it('throttles per forwarded client address', async () => {
    const b = new TestBrowser(bk.url);
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    const attempt = async (username: string, ip: string) =>
      (await b.submit('/login', { username, password: 'not the password' }, from(ip))).status;
    expect(await attempt('y1', '203.0.113.7')).toBe(401);
    expect(await attempt('y2', '203.0.113.7')).toBe(429);
    expect(await attempt('y3', '203.0.113.7')).toBe(429);
    // Another client behind the same proxy is not locked out.
    expect(await attempt('y4', '198.51.100.9')).toBe(401);
  });
});
