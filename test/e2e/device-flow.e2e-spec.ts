import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { ActorsService } from 'src/actors/actors.service';
import { ClientsService } from 'src/clients/clients.service';
import { DataSource } from 'typeorm';
import { type RunningBridgekeeper, startBridgekeeper } from '../support/bridgekeeper';
import { TestBrowser } from '../support/browser';
import { launchChromium, onFailure, type TestChromium, type TestPage } from '../support/chromium';

// Issue 11 §1: the RFC 8628 device authorization grant. openid-client (certified) is the device: it
// starts the request and polls; a person approves in a real Chromium on the /device page after signing
// in on the login page. Polling answers authorization_pending, slow_down, access_denied and
// expired_token; codes are single use and stored only as hashes.
const PASSWORD = 'device owner passphrase';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

describe('device authorization grant (RFC 8628)', () => {
  let chrome: TestChromium;
  let bk: RunningBridgekeeper;
  let cli: { clientId: string };
  let rp: oidc.Configuration;
  let aliceId: string;

  beforeAll(async () => {
    chrome = await launchChromium();
    bk = await startBridgekeeper({
      issuers: [],
      properties: { 'bridgekeeper.oauth.device.interval.seconds': '1' },
    });
    ({ actorId: aliceId } = await bk.app.get(LocalAccountsService).create({
      username: 'alice',
      displayName: 'Alice Liddell',
      password: PASSWORD,
    }));
    await bk.app.get(LocalAccountsService).create({ username: 'bob', password: PASSWORD });
    const created = await bk.app.get(ClientsService).create({
      name: 'Bridgekeeper CLI',
      grantTypes: ['device_code', 'refresh_token'],
      scopes: ['openid', 'profile', 'offline_access'],
      tokenEndpointAuthMethod: 'none',
    });
    cli = { clientId: created.client.clientId };
    rp = await oidc.discovery(new URL(bk.url), cli.clientId, undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
  });

  afterAll(async () => {
    await chrome?.close();
    await bk?.close();
  });

  const newPage = () => chrome.newPage({ viewport: { width: 390, height: 844 } });

  function post(path: string, form: Record<string, string>) {
    return fetch(`${bk.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  async function start(extra: Record<string, string> = {}) {
    const res = await post('/oauth2/device_authorization', {
      client_id: cli.clientId,
      scope: 'openid offline_access',
      ...extra,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    return (await res.json()) as oidc.DeviceAuthorizationResponse;
  }

  const poll = (deviceCode: string, clientId = cli.clientId) =>
    post('/oauth2/token', {
      grant_type: DEVICE_GRANT,
      client_id: clientId,
      device_code: deviceCode,
    });

  async function pollError(deviceCode: string): Promise<string> {
    const res = await poll(deviceCode);
    expect(res.status).toBe(400);
    return ((await res.json()) as { error: string }).error;
  }

  /** Signs in on the login page the device page sends a signed-out person to. */
  async function signInFromDevicePage(p: TestPage, url: string, username = 'alice') {
    await p.page.goto(url);
    await p.page.waitForURL((u) => u.pathname === '/login');
    await p.page.getByLabel('Username or email').fill(username);
    await p.page.getByLabel('Password').fill(PASSWORD);
    await p.page.getByRole('button', { name: 'Sign in' }).click();
    await p.page.getByRole('heading', { name: 'Connect a device' }).waitFor();
  }

  it('is advertised in discovery', () => {
    const meta = rp.serverMetadata();
    expect(meta.device_authorization_endpoint).toBe(`${bk.url}/oauth2/device_authorization`);
    expect(meta.grant_types_supported).toContain(DEVICE_GRANT);
  });

  it('signs a person in on a command line: openid-client polls while they approve in Chromium', async () => {
    const p = await newPage();
    try {
      await onFailure(p.page, 'device-approve', async () => {
        const response = await oidc.initiateDeviceAuthorization(rp, {
          scope: 'openid profile offline_access',
        });
        expect(response.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
        expect(response.verification_uri).toBe(`${bk.url}/device`);
        expect(response.interval).toBe(1);
        expect(await pollError(response.device_code)).toBe('authorization_pending');
        const polling = oidc.pollDeviceAuthorizationGrant(rp, response);

        // The link fills the code in; the person still confirms it and sees who asks for what.
        await signInFromDevicePage(p, response.verification_uri_complete!);
        expect(await p.page.getByLabel('Code').inputValue()).toBe(response.user_code);
        const csp = (await p.page.request.get(`${bk.url}/device`)).headers()[
          'content-security-policy'
        ];
        expect(csp).toContain("frame-ancestors 'none'");
        await p.page.getByRole('button', { name: 'Continue' }).click();
        await p.page.getByRole('heading', { name: 'Approve this device?' }).waitFor();
        const text = await p.page.locator('main').innerText();
        expect(text).toContain('Bridgekeeper CLI');
        expect(text).toContain('See your name');
        expect(text).toContain('Stay signed in');
        await p.page.getByRole('button', { name: 'Approve' }).click();
        await p.page.getByRole('heading', { name: 'Device approved' }).waitFor();

        const tokens = await polling;
        expect(tokens.refresh_token).toMatch(/^bkr_/);
        expect(tokens.scope).toBe('openid profile offline_access');
        const claims = decodeJwt(tokens.access_token);
        expect(claims.sub).toBe(aliceId);
        expect(claims.aud).toBe(bk.config.oauth.audience);
        const me = await bk.get('/oauth2/userinfo', tokens.access_token);
        expect(me.status).toBe(200);
        expect(await me.json()).toMatchObject({ sub: aliceId, name: 'Alice Liddell' });

        // Single use: the device code is spent, and the decision cannot be made again.
        expect(await pollError(response.device_code)).toBe('invalid_grant');
        const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
        expect(decodeJwt(refreshed.access_token).sub).toBe(aliceId);
        p.assertNoErrors();
      });
    } finally {
      await p.close();
    }
  });

  it('a denied request is access_denied; an answered one cannot be answered again', async () => {
    const response = await start();
    const p = await newPage();
    try {
      await onFailure(p.page, 'device-deny', async () => {
        await signInFromDevicePage(p, `${bk.url}/device`, 'bob');
        await p.page.getByLabel('Code').fill(response.user_code.toLowerCase().replace('-', ' '));
        await p.page.getByRole('button', { name: 'Continue' }).click();
        await p.page.getByRole('button', { name: 'Deny' }).click();
        await p.page.getByRole('heading', { name: 'Device denied' }).waitFor();
        expect(await pollError(response.device_code)).toBe('access_denied');

        // The same code again: no longer waiting for an answer.
        await p.page.goto(`${bk.url}/device`);
        await p.page.getByLabel('Code').fill(response.user_code);
        await p.page.getByRole('button', { name: 'Continue' }).click();
        await p.page.getByText('not valid, was already used, or has expired').waitFor();
        p.errors.splice(0); // the 400 above was expected
        p.assertNoErrors();
      });
    } finally {
      await p.close();
    }
  });

  it('polling faster than the interval is slow_down, and the interval grows', async () => {
    const response = await start();
    expect(await pollError(response.device_code)).toBe('authorization_pending');
    expect(await pollError(response.device_code)).toBe('slow_down');
    const res = await poll(response.device_code);
    expect(await res.json()).toMatchObject({
      error: 'slow_down',
      error_description: 'Poll at most every 11 seconds',
    });
  });

  it('an expired request is expired_token, and its user code is refused on the page', async () => {
    const response = await start();
    await bk.app
      .get(DataSource)
      .query(
        `UPDATE oauth_device_codes SET expires_at = now() - interval '1 second' WHERE status = 'pending'`,
      );
    expect(await pollError(response.device_code)).toBe('expired_token');
    const browser = new TestBrowser(bk.url);
    const login = await browser.get('/device');
    expect(login.status).toBe(303);
    const signedIn = await browser.submit(login.headers.get('location')!, {
      username: 'alice',
      password: PASSWORD,
    });
    expect(signedIn.headers.get('location')).toBe('/device');
    const entered = await browser.submit('/device', { user_code: response.user_code });
    expect(entered.status).toBe(400);
  });

  it('stores only hashes of the codes', async () => {
    const response = await start();
    const rows = (await bk.app.get(DataSource).query('SELECT * FROM oauth_device_codes')) as Record<
      string,
      unknown
    >[];
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(response.device_code);
    expect(dump).not.toContain(response.user_code);
    expect(dump).not.toContain(response.user_code.replace('-', ''));
  });

  it('refuses the form without our CSRF token or from another site, and throttles wrong codes', async () => {
    const browser = new TestBrowser(bk.url);
    const login = await browser.get('/device');
    await browser.submit(login.headers.get('location')!, { username: 'bob', password: PASSWORD });
    const response = await start();
    expect((await browser.post('/device', { user_code: response.user_code })).status).toBe(403);
    const page = await browser.get('/device');
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1];
    const foreign = await browser.post(
      '/device',
      { csrf, user_code: response.user_code },
      { origin: 'https://evil.example.com' },
    );
    expect(foreign.status).toBe(403);
    // Wrong codes: refused, then the person must wait (even for a right code).
    let last = 0;
    for (let i = 0; i < 11; i++) {
      last = (await browser.submit('/device', { user_code: 'BBBB-BBBB' })).status;
    }
    expect(last).toBe(429);
    const right = await browser.submit('/device', { user_code: response.user_code });
    expect(right.status).toBe(429);
    expect(right.headers.get('retry-after')).toBe('600');
    // A forged decision (no token bound to this request) is refused.
    const forged = await browser.post('/device/decision', {
      csrf,
      request: '00000000-0000-0000-0000-000000000000',
      decision: 'approve',
    });
    expect(forged.status).toBe(403);
  });

  it('refuses clients without the grant, unknown resources, other clients and a disabled person', async () => {
    const other = await bk.app.get(ClientsService).create({
      name: 'machine',
      grantTypes: ['client_credentials'],
      scopes: ['reports'],
    });
    const noGrant = await post('/oauth2/device_authorization', {
      client_id: other.client.clientId,
      client_secret: other.secret!,
    });
    expect(noGrant.status).toBe(400);
    expect(await noGrant.json()).toMatchObject({ error: 'unauthorized_client' });
    const target = await post('/oauth2/device_authorization', {
      client_id: cli.clientId,
      resource: 'https://evil.example.com/',
    });
    expect(await target.json()).toMatchObject({ error: 'invalid_target' });
    const scope = await post('/oauth2/device_authorization', {
      client_id: cli.clientId,
      scope: 'admin',
    });
    expect(await scope.json()).toMatchObject({ error: 'invalid_scope' });

    // An MCP device login: approved by a person who is then disabled before the device polls.
    const response = await start({ resource: `${bk.url}/mcp`, scope: 'mcp:read' });
    const browser = new TestBrowser(bk.url);
    const login = await browser.get(`/device?user_code=${response.user_code}`);
    const back = await browser.submit(login.headers.get('location')!, {
      username: 'alice',
      password: PASSWORD,
    });
    const entered = await browser.submit(back.headers.get('location')!, {
      user_code: response.user_code,
    });
    const confirm = await entered.text();
    expect(confirm).toContain('MCP server');
    const csrf = /name="csrf" value="([^"]+)"/.exec(confirm)![1];
    const requestId = /name="request" value="([^"]+)"/.exec(confirm)![1];
    const approved = await browser.post('/device/decision', {
      csrf,
      request: requestId,
      decision: 'approve',
    });
    expect(approved.status).toBe(200);
    // Another client cannot redeem it.
    const stolen = await post('/oauth2/token', {
      grant_type: DEVICE_GRANT,
      client_id: other.client.clientId,
      client_secret: other.secret!,
      device_code: response.device_code,
    });
    expect(stolen.status).toBe(400);
    await bk.app.get(ActorsService).setStatus(aliceId, 'DISABLED');
    expect(await pollError(response.device_code)).toBe('invalid_grant');
  });
});
