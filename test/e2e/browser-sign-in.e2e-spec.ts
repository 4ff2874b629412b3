import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { ClientsService } from 'src/clients/clients.service';
import { type RunningBridgekeeper, startTwoNodes } from '../support/bridgekeeper';
import {
  browserState,
  launchChromium,
  onFailure,
  type TestChromium,
  type TestPage,
} from '../support/chromium';
import { createProject, gqlData, inviteMember } from '../support/gql-ops';
import { type RedisServer, startRedis } from '../support/redis';
import { SmtpTestServer } from '../support/smtp';

// Issue 9 §5: the sign-in pages in a real headless Chromium (Debian's package, driven by playwright-core)
// against two real nodes sharing PostgreSQL and Redis. The relying party is openid-client (certified):
// it builds the authorization request, the browser signs in on our pages, and openid-client redeems the
// code and validates the ID token. The app's redirect URI is a small loopback server of this test.
const ADMIN_PASSWORD = 'first admin passphrase';
const MEMBER_PASSWORD = 'invited member passphrase';

describe('signing in with a real browser (Chromium)', () => {
  let chrome: TestChromium;
  let redis: RedisServer;
  let smtp: SmtpTestServer;
  let a: RunningBridgekeeper;
  let b: RunningBridgekeeper;
  let app: Server;
  let appUrl: string;
  let rp: oidc.Configuration;
  let clientId: string;
  let adminToken: string;
  /** Every access, refresh and ID token the test saw: none may appear in a log or a page. */
  const tokensSeen: string[] = [];

  beforeAll(async () => {
    [redis, smtp, chrome] = await Promise.all([
      startRedis(),
      SmtpTestServer.start(),
      launchChromium(),
    ]);
    [a, b] = await startTwoNodes({
      issuers: [],
      redisUrl: redis.url,
      properties: { 'bridgekeeper.smtp.url': smtp.url },
    });
    // The application people sign in to: its redirect URI answers with a plain page.
    app = createServer((req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><title>App</title><h1>Back in the app</h1><p>${req.url}</p>`);
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await chrome?.close();
    await Promise.all([a?.close(), b?.close()]);
    app?.closeAllConnections();
    await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
    await Promise.all([redis?.stop(), smtp?.stop()]);
  });

  /** A fresh browser context (own cookies) with a page; closed by the caller. */
  const newPage = () => chrome.newPage({ viewport: { width: 390, height: 844 } });

  async function authorizationRequest(extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: `${appUrl}/cb`,
      scope: 'openid profile email offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    return { url, verifier, state, nonce };
  }

  /** Waits until the browser is back at the app and returns that URL. */
  async function backAtApp(p: TestPage): Promise<URL> {
    await p.page.waitForURL((u) => u.href.startsWith(`${appUrl}/cb`));
    await p.page.getByRole('heading', { name: 'Back in the app' }).waitFor();
    return new URL(p.page.url());
  }

  async function redeem(callback: URL, req: { verifier: string; state: string; nonce: string }) {
    const tokens = await oidc.authorizationCodeGrant(rp, callback, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
      idTokenExpected: true,
    });
    tokensSeen.push(tokens.access_token, tokens.id_token!, tokens.refresh_token ?? '');
    return tokens;
  }

  /** Fills the login form (the page must show it) and submits it. */
  async function fillLogin(p: TestPage, username: string, password: string): Promise<void> {
    await p.page.getByLabel('Username or email').fill(username);
    await p.page.getByLabel('Password').fill(password);
    await p.page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** Signs `username` in to the app in a new context; returns the page (still signed in) and tokens. */
  async function signInToApp(username: string, password: string) {
    const p = await newPage();
    const req = await authorizationRequest();
    await p.page.goto(req.url.href);
    await p.page.waitForURL((u) => u.pathname === '/login');
    await fillLogin(p, username, password);
    const tokens = await redeem(await backAtApp(p), req);
    return { p, tokens };
  }

  it('creates the first administrator from the printed setup link, who then signs in to an app with code + PKCE', async () => {
    const link = a.logs
      .map((l) => /(http:\/\/127\.0\.0\.1:\d+\/setup\/[A-Za-z0-9_-]{43})/.exec(l)?.[1])
      .find(Boolean)!;
    expect(link).toBeDefined();
    const p = await newPage();
    await onFailure(p.page, 'setup', async () => {
      await p.page.goto(link);
      // The secret leaves the address bar at once.
      await p.page.waitForURL((u) => u.pathname === '/setup');
      await p.page.getByLabel('Username').fill('root');
      await p.page.getByLabel('Email (optional)').fill('root@example.com');
      await p.page.getByLabel('Display name (optional)').fill('Ruth Root');
      await p.page.getByLabel('New password').fill(ADMIN_PASSWORD);
      await p.page.getByLabel('Repeat the password').fill(ADMIN_PASSWORD);
      await p.page.getByRole('button', { name: 'Create administrator' }).click();
      await p.page.getByText('You are signed in as').waitFor();
      expect(await p.page.locator('strong').textContent()).toBe('Ruth Root');
      // The link worked once: it is gone now.
      const again = await p.page.goto(link);
      expect(again?.status()).toBe(404);
      // That 404 was expected; the browser reported it as a console error.
      p.errors.splice(0);
    });

    // An application registered for the admin (the console registers itself the same way).
    const created = await a.app.get(ClientsService).create({
      name: 'Team app',
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      redirectUris: [`${appUrl}/cb`],
      tokenEndpointAuthMethod: 'client_secret_basic',
    });
    clientId = created.client.clientId;
    rp = await oidc.discovery(
      new URL(a.url),
      clientId,
      undefined,
      oidc.ClientSecretBasic(created.secret!),
      { execute: [oidc.allowInsecureRequests] },
    );
    // Already signed in from the setup: the authorization request goes straight back to the app.
    const req = await authorizationRequest();
    await p.page.goto(req.url.href);
    const tokens = await redeem(await backAtApp(p), req);
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(a.url);
    expect(claims.aud).toBe(clientId);
    expect(claims.nonce).toBe(req.nonce);
    const info = await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ email: 'root@example.com', name: 'Ruth Root' });
    adminToken = tokens.access_token;
    const me = await gqlData<{ me: { roles: string[] } }>(a, adminToken, '{ me { roles } }');
    expect(me.me.roles).toEqual(['ADMIN']);
    // Nothing secret stayed in the browser's pages or storage.
    await p.page.goto(`${a.url}/login`);
    const state = await browserState(p.page);
    expect(state).not.toContain(ADMIN_PASSWORD);
    for (const t of tokensSeen) if (t) expect(state).not.toContain(t);
    p.assertNoErrors();
    await p.close();
  });

  it('signs a person in on the login page: one message for a wrong password and an unknown user', async () => {
    const p = await newPage();
    await onFailure(p.page, 'login', async () => {
      const req = await authorizationRequest();
      await p.page.goto(req.url.href);
      await p.page.waitForURL((u) => u.pathname === '/login');
      await fillLogin(p, 'root', 'not the passphrase');
      await p.page.getByText('Wrong username or password.').waitFor();
      await fillLogin(p, 'nobody-here', 'not the passphrase');
      await p.page.getByText('Wrong username or password.').waitFor();
      // The password field is never filled back in.
      await expect(p.page.getByLabel('Password').inputValue()).resolves.toBe('');
      await fillLogin(p, 'ROOT', ADMIN_PASSWORD);
      const tokens = await redeem(await backAtApp(p), req);
      const { sub } = tokens.claims()!;
      const info = await oidc.fetchUserInfo(rp, tokens.access_token, sub);
      expect(info.email).toBe('root@example.com');
    });
    // The wrong-password page answered 401 in the console; nothing else went wrong.
    p.assertNoErrors(['401']);
    await p.close();
  });

  it('refuses a form without its CSRF token and a form posted from another site', async () => {
    const p = await newPage();
    await onFailure(p.page, 'csrf', async () => {
      await p.page.goto(`${a.url}/login`);
      await p.page.evaluate(`document.querySelector('input[name="csrf"]').remove()`);
      await fillLogin(p, 'root', ADMIN_PASSWORD);
      await p.page.getByText('This form expired or was sent from another site').waitFor();
      expect(await p.page.getByText('You are signed in as').count()).toBe(0);

      // A page on another origin (the app's) that posts a login form to Bridgekeeper.
      await p.page.goto(`${a.url}/login`);
      const csrf = await p.page.locator('input[name="csrf"]').inputValue();
      await p.page.goto(`${appUrl}/elsewhere`);
      await p.page.setContent(
        `<form method="post" action="${a.url}/login"><input name="csrf" value="${csrf}">` +
          `<input name="username" value="root"><input name="password" value="${ADMIN_PASSWORD}">` +
          `<button type="submit">Go</button></form>`,
      );
      await p.page.getByRole('button', { name: 'Go' }).click();
      await p.page.getByText('This form expired or was sent from another site').waitFor();
      await p.page.goto(`${a.url}/login`);
      expect(await p.page.getByText('You are signed in as').count()).toBe(0);
    });
    p.assertNoErrors(['403']);
    await p.close();
  });

  it('sends PKCE and redirect URI mistakes back to the app only when the redirect URI is registered', async () => {
    const p = await newPage();
    await onFailure(p.page, 'refusals', async () => {
      const base = {
        client_id: clientId,
        response_type: 'code',
        redirect_uri: `${appUrl}/cb`,
        scope: 'openid',
        state: 'st',
      };
      // No PKCE: back to the app with invalid_request and the issuer (RFC 9207).
      await p.page.goto(`${a.url}/oauth2/authorize?${new URLSearchParams(base).toString()}`);
      let back = await backAtApp(p);
      expect(back.searchParams.get('error')).toBe('invalid_request');
      expect(back.searchParams.get('iss')).toBe(a.url);
      expect(back.searchParams.get('state')).toBe('st');
      // plain PKCE: the same.
      await p.page.goto(
        `${a.url}/oauth2/authorize?${new URLSearchParams({ ...base, code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }).toString()}`,
      );
      back = await backAtApp(p);
      expect(back.searchParams.get('error')).toBe('invalid_request');
      // An unregistered redirect URI: an error page here, never a redirect there.
      const res = await p.page.goto(
        `${a.url}/oauth2/authorize?${new URLSearchParams({ ...base, redirect_uri: 'https://evil.example.com/cb' }).toString()}`,
      );
      expect(res?.status()).toBe(400);
      expect(new URL(p.page.url()).origin).toBe(a.url);
      await p.page.getByRole('heading').first().waitFor();
    });
    p.assertNoErrors(['400']);
    await p.close();
  });

  it('refuses a replayed code, a wrong verifier and a tampered state', async () => {
    const { p, tokens } = await signInToApp('root', ADMIN_PASSWORD);
    // The first grant works until the code is replayed.
    const req = await authorizationRequest();
    await p.page.goto(req.url.href);
    const callback = await backAtApp(p);
    // A tampered state never reaches the token endpoint.
    const tampered = new URL(callback);
    tampered.searchParams.set('state', 'forged');
    await expect(
      oidc.authorizationCodeGrant(rp, tampered, {
        pkceCodeVerifier: req.verifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
      }),
    ).rejects.toMatchObject({
      cause: expect.objectContaining({ message: expect.stringMatching(/state/) }),
    });
    // A wrong verifier is refused by the token endpoint, and the code is spent.
    await expect(
      oidc.authorizationCodeGrant(rp, callback, {
        pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
        expectedState: req.state,
        expectedNonce: req.nonce,
      }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(redeem(callback, req)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The earlier grant of the same browser still works.
    const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
    tokensSeen.push(refreshed.access_token, refreshed.refresh_token ?? '');
    // A replayed code: refused, and the grant it produced is revoked.
    const req2 = await authorizationRequest();
    await p.page.goto(req2.url.href);
    const cb2 = await backAtApp(p);
    const once = await redeem(cb2, req2);
    await expect(redeem(cb2, req2)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(rp, once.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    p.assertNoErrors();
    await p.close();
  });

  it('answers prompt=none with login_required without a session, and with a code with one', async () => {
    const p = await newPage();
    const silent = await authorizationRequest({ prompt: 'none' });
    await p.page.goto(silent.url.href);
    const refused = await backAtApp(p);
    expect(refused.searchParams.get('error')).toBe('login_required');
    expect(refused.searchParams.get('code')).toBeNull();
    // Sign in once, then a silent request returns a code without showing a page.
    const req = await authorizationRequest();
    await p.page.goto(req.url.href);
    await fillLogin(p, 'root', ADMIN_PASSWORD);
    await redeem(await backAtApp(p), req);
    const again = await authorizationRequest({ prompt: 'none' });
    await p.page.goto(again.url.href);
    const tokens = await redeem(await backAtApp(p), again);
    expect(tokens.claims()!.sub).toBeDefined();
    p.assertNoErrors();
    await p.close();
  });

  it('invite email → set password in the browser → the member signs in to the app', async () => {
    const projectId = await createProject(a, adminToken, 'Harbor Clinic');
    const before = smtp.received.length;
    const member = await inviteMember(a, adminToken, projectId, {
      firstName: 'Jane',
      lastName: 'Smith',
      email: 'jane@example.com',
      sendEmail: true,
    });
    expect(member.inviteEmailSent).toBe(true);
    const link = await smtp.setPasswordLinkSentTo('jane@example.com', before);
    const p = await newPage();
    await onFailure(p.page, 'set-password', async () => {
      await p.page.goto(link);
      await p.page.getByLabel('New password').fill(MEMBER_PASSWORD);
      await p.page.getByLabel('Repeat the password').fill(MEMBER_PASSWORD);
      await p.page.getByRole('button', { name: 'Set password' }).click();
      await p.page.getByText('You are signed in as').waitFor();
    });
    await p.close();
    // A new browser: the member signs in with the email and the new password (on the other node).
    const { p: q, tokens } = await signInToApp('jane@example.com', MEMBER_PASSWORD);
    const info = await oidc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub);
    expect(info.email).toBe('jane@example.com');
    const me = await gqlData<{ me: { id: string } }>(b, tokens.access_token, '{ me { id } }');
    expect(me.me.id).toBe(tokens.claims()!.sub);
    q.assertNoErrors();
    await q.close();
  });

  it('ends a browser session when an admin revokes the sessions on another node', async () => {
    const { p, tokens } = await signInToApp('jane@example.com', MEMBER_PASSWORD);
    const actorId = tokens.claims()!.sub;
    const revoked = await gqlData<{ revokeSessions: number }>(
      b,
      adminToken,
      'mutation($actorId: ID!) { revokeSessions(actorId: $actorId) }',
      { actorId },
    );
    expect(revoked.revokeSessions).toBeGreaterThan(0);
    // Node a: the browser session is gone (a silent request needs a login) and so is the grant.
    const silent = await authorizationRequest({ prompt: 'none' });
    await p.page.goto(silent.url.href);
    expect((await backAtApp(p)).searchParams.get('error')).toBe('login_required');
    await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    await p.page.goto(`${a.url}/login`);
    await p.page.getByLabel('Username or email').waitFor();
    p.assertNoErrors();
    await p.close();
  });

  it('never writes a password or a token to the logs', () => {
    const logs = [...a.logs, ...b.logs].join('\n');
    expect(logs).not.toContain(ADMIN_PASSWORD);
    expect(logs).not.toContain(MEMBER_PASSWORD);
    for (const t of tokensSeen) if (t) expect(logs).not.toContain(t);
    expect(tokensSeen.length).toBeGreaterThan(6);
  });
});
