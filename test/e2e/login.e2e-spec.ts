import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { BrowserSessionsService } from 'src/browser-sessions/browser-sessions.service';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { parseForm, TestBrowser } from '../support/browser';

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
});
