import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { ClientRegistrationService } from 'src/oauth/client-registration.service';
import { DataSource } from 'typeorm';
import { type RunningBridgekeeper, startBridgekeeper } from '../support/bridgekeeper';
import { TestBrowser } from '../support/browser';

// Issue 11 §1: RFC 7591 dynamic registration of public clients (as MCP clients do it) and the consent
// page a person sees before such a client gets a code. Loopback or https redirects only, rate limited
// per address, unused registrations expire.
const PASSWORD = 'consenting person passphrase';
const REDIRECT = 'http://127.0.0.1:33418/callback';
// Every attempt counts, refused ones too: this file makes 10 before the rate-limit test.
const MAX_PER_HOUR = 12;

describe('dynamic client registration (RFC 7591) and consent', () => {
  let bk: RunningBridgekeeper;
  let browser: TestBrowser;
  /** Serves Client ID Metadata Documents: path → document; counts fetches. */
  let docs: Server;
  let docsUrl: string;
  const documents = new Map<string, unknown>();
  let fetches = 0;

  beforeAll(async () => {
    docs = createServer((req, res) => {
      fetches++;
      const doc = documents.get(req.url ?? '');
      res.statusCode = doc ? 200 : 404;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(doc ?? {}));
    });
    await new Promise<void>((r) => docs.listen(0, '127.0.0.1', r));
    docsUrl = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
    bk = await startBridgekeeper({
      issuers: [],
      properties: { 'bridgekeeper.oauth.registration.max.per.hour': String(MAX_PER_HOUR) },
    });
    await bk.app.get(LocalAccountsService).create({ username: 'alice', password: PASSWORD });
    browser = new TestBrowser(bk.url);
  });

  afterAll(async () => {
    await bk?.close();
    docs?.closeAllConnections();
    await new Promise<void>((r) => (docs ? docs.close(() => r()) : r()));
  });

  async function register(metadata: unknown) {
    const res = await fetch(`${bk.url}/oauth2/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(metadata),
    });
    return {
      status: res.status,
      headers: res.headers,
      body: (await res.json()) as Record<string, unknown>,
    };
  }

  async function authorize(clientId: string, extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const q = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: 'mcp:read',
      resource: `${bk.url}/mcp`,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'st',
      ...extra,
    });
    let res = await browser.get(`/oauth2/authorize?${q.toString()}`);
    if (res.status === 303) {
      const posted = await browser.submit(res.headers.get('location')!, {
        username: 'alice',
        password: PASSWORD,
      });
      res = await browser.get(posted.headers.get('location')!);
    }
    return { res, verifier };
  }

  function consentForm(page: string) {
    return {
      csrf: /name="csrf" value="([^"]+)"/.exec(page)![1],
      request: /name="request" value="([^"]+)"/.exec(page)![1].replace(/&amp;/g, '&'),
    };
  }

  it('is advertised in discovery', async () => {
    const meta = (await (
      await fetch(`${bk.url}/.well-known/oauth-authorization-server`)
    ).json()) as {
      registration_endpoint: string;
    };
    expect(meta.registration_endpoint).toBe(`${bk.url}/oauth2/register`);
  });

  it('registers a public client, and the person approves it on a consent page before any code', async () => {
    const reg = await register({
      client_name: 'Claude Code',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid mcp:read mcp:write',
    });
    expect(reg.status).toBe(201);
    expect(reg.headers.get('cache-control')).toBe('no-store');
    expect(reg.body).toMatchObject({
      client_name: 'Claude Code',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'openid mcp:read mcp:write offline_access',
    });
    const clientId = reg.body.client_id as string;

    const { res, verifier } = await authorize(clientId);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const page = await res.text();
    expect(page).toContain('Claude Code');
    expect(page).toContain('registered itself');
    expect(page).toContain('MCP server');
    expect(page).toContain('(mcp:read)');

    // Without our CSRF token, or from another site: refused.
    const form = consentForm(page);
    expect(
      (
        await browser.post('/oauth2/consent', {
          ...form,
          csrf: 'x'.repeat(43),
          decision: 'approve',
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await browser.post(
          '/oauth2/consent',
          { ...form, decision: 'approve' },
          { origin: 'https://evil.example.com' },
        )
      ).status,
    ).toBe(403);
    // A token for this request cannot approve another (a wider scope).
    const wider = form.request.replace('scope=mcp%3Aread', 'scope=mcp%3Aread+mcp%3Awrite');
    expect(
      (await browser.post('/oauth2/consent', { ...form, request: wider, decision: 'approve' }))
        .status,
    ).toBe(403);

    const approved = await browser.post('/oauth2/consent', { ...form, decision: 'approve' });
    expect(approved.status).toBe(302);
    const callback = new URL(approved.headers.get('location')!);
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    expect(callback.searchParams.get('state')).toBe('st');
    const tokens = await fetch(`${bk.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: clientId,
        code: callback.searchParams.get('code')!,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      }).toString(),
    });
    expect(tokens.status).toBe(200);
    const body = (await tokens.json()) as { access_token: string };
    expect(decodeJwt(body.access_token).aud).toBe(`${bk.url}/mcp`);

    // Denied: the client hears access_denied; prompt=none never skips the question.
    const again = await authorize(clientId);
    const denied = await browser.post('/oauth2/consent', {
      ...consentForm(await again.res.text()),
      decision: 'deny',
    });
    expect(new URL(denied.headers.get('location')!).searchParams.get('error')).toBe(
      'access_denied',
    );
    const silent = await authorize(clientId, { prompt: 'none' });
    expect(silent.res.status).toBe(302);
    expect(new URL(silent.res.headers.get('location')!).searchParams.get('error')).toBe(
      'consent_required',
    );
  });

  it('accepts a Client ID Metadata Document as client_id: fetched, cached, consent, then tokens', async () => {
    const clientId = `${docsUrl}/vscode.json`;
    documents.set('/vscode.json', {
      client_id: clientId,
      client_name: 'VS Code',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'none',
    });
    const before = fetches;
    const { res, verifier } = await authorize(clientId);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('VS Code');
    expect(page).toContain('registered itself');
    const approved = await browser.post('/oauth2/consent', {
      ...consentForm(page),
      decision: 'approve',
    });
    const code = new URL(approved.headers.get('location')!).searchParams.get('code')!;
    const tokens = await fetch(`${bk.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: clientId,
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      }).toString(),
    });
    expect(tokens.status).toBe(200);
    expect(
      decodeJwt(((await tokens.json()) as { access_token: string }).access_token).client_id,
    ).toBe(clientId);
    // Cached: asking again does not fetch the document again.
    await authorize(clientId);
    expect(fetches - before).toBe(1);

    // A document that names another client_id, an unknown document, a redirect it does not list.
    const liar = `${docsUrl}/liar.json`;
    documents.set('/liar.json', { client_id: clientId, redirect_uris: [REDIRECT] });
    expect((await authorize(liar)).res.status).toBe(400);
    expect((await authorize(`${docsUrl}/missing.json`)).res.status).toBe(400);
    expect(
      (await authorize(clientId, { redirect_uri: 'http://127.0.0.1:1/other' })).res.status,
    ).toBe(400);
  });

  it.each([
    [{ redirect_uris: ['com.example.app:/cb'] }, 'invalid_redirect_uri'],
    [{ redirect_uris: ['http://evil.example.com/cb'] }, 'invalid_redirect_uri'],
    [{ redirect_uris: [] }, 'invalid_redirect_uri'],
    [
      { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' },
      'invalid_client_metadata',
    ],
    [{ redirect_uris: [REDIRECT], grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
    [{ redirect_uris: [REDIRECT], scope: 'openid admin' }, 'invalid_client_metadata'],
    [{ redirect_uris: [REDIRECT], response_types: ['token'] }, 'invalid_client_metadata'],
    [['not', 'an', 'object'], 'invalid_request'],
  ])('refuses %j with %s', async (metadata, error) => {
    const res = await register(metadata);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe(error);
  });

  it('deletes registrations no person approved once they are old enough', async () => {
    const unused = await register({ client_name: 'forgotten', redirect_uris: [REDIRECT] });
    expect(unused.status).toBe(201);
    const used = (await bk.app
      .get(DataSource)
      .query(
        `SELECT client_id FROM oauth_clients WHERE registration = 'dynamic' AND client_id IN (SELECT client_id FROM oauth_grants)`,
      )) as { client_id: string }[];
    expect(used.length).toBe(2);
    await bk.app
      .get(DataSource)
      .query(
        `UPDATE oauth_clients SET created_at = now() - interval '2 days' WHERE registration = 'dynamic'`,
      );
    expect(await bk.app.get(ClientRegistrationService).purgeUnused()).toBeGreaterThanOrEqual(1);
    const left = (await bk.app
      .get(DataSource)
      .query(`SELECT client_id FROM oauth_clients WHERE registration = 'dynamic'`)) as {
      client_id: string;
    }[];
    expect(left.map((r) => r.client_id).sort()).toEqual(used.map((r) => r.client_id).sort());
    const gone = await browser.get(
      `/oauth2/authorize?client_id=${unused.body.client_id as string}&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}`,
    );
    expect(gone.status).toBe(400);
  });

  it('is rate limited per client address', async () => {
    let last = await register({ redirect_uris: [REDIRECT] });
    for (let i = 0; i < MAX_PER_HOUR && last.status !== 429; i++) {
      last = await register({ redirect_uris: [REDIRECT] });
    }
    expect(last.status).toBe(429);
    expect(last.headers.get('retry-after')).toBe('3600');
    expect(last.body.error).toBe('too_many_requests');
  });
});
