import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { AppError } from 'src/common/errors/app-error';
import { IdentityService } from 'src/identity/identity.service';
import { type RunningBridgekeeper, startBridgekeeper } from '../support/bridgekeeper';
import { TestBrowser } from '../support/browser';
import { OidcIdp } from '../support/oidc-provider';

// Issue 11 §1: RFC 8707 resource indicators on every grant and RFC 9728 protected-resource metadata.
// The token's `aud` is the resource asked for (the API or `<public url>/mcp`), a refresh keeps it,
// anything else is `invalid_target`; the API accepts only API tokens and the MCP entry point only our
// own MCP tokens (never an external provider's).
const CREATE_CLIENT = `mutation($input: CreateClientInput!) {
  createClient(input: $input) { client { clientId } clientSecret }
}`;
const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:53123/cb';

describe('resource indicators (RFC 8707) and protected-resource metadata (RFC 9728)', () => {
  let idp: OidcIdp;
  let bk: RunningBridgekeeper;
  let adminToken: string;
  let mcp: string;
  let machine: { clientId: string; secret: string };
  let app: { clientId: string };

  beforeAll(async () => {
    idp = await OidcIdp.start();
    bk = await startBridgekeeper({
      issuers: [{ name: 'idp', issuer: idp.issuer, jwks: idp.jwksUrl, audiences: idp.audience }],
      admins: ['idp:root'],
    });
    mcp = `${bk.url}/mcp`;
    adminToken = await idp.login('root');
    await bk.app.get(LocalAccountsService).create({ username: 'alice', password: PASSWORD });
    const m = await createClient({
      name: 'agent',
      grantTypes: ['CLIENT_CREDENTIALS'],
      scopes: ['reports'],
    });
    machine = { clientId: m.client.clientId, secret: m.clientSecret! };
    const p = await createClient({
      name: 'editor',
      grantTypes: ['AUTHORIZATION_CODE', 'REFRESH_TOKEN'],
      scopes: ['openid', 'offline_access'],
      tokenEndpointAuthMethod: 'NONE',
      redirectUris: ['http://127.0.0.1/cb'],
    });
    app = { clientId: p.client.clientId };
  });

  afterAll(async () => {
    await bk?.close();
    await idp?.stop();
  });

  async function createClient(
    input: Record<string, unknown>,
  ): Promise<{ client: { clientId: string }; clientSecret: string | null }> {
    const res = await bk.graphql(CREATE_CLIENT, adminToken, { input });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.createClient as { client: { clientId: string }; clientSecret: string };
  }

  function token(form: Record<string, string>) {
    return fetch(`${bk.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  const machineToken = (extra: Record<string, string> = {}) =>
    token({
      grant_type: 'client_credentials',
      client_id: machine.clientId,
      client_secret: machine.secret,
      ...extra,
    });

  /** What the MCP endpoint will do with a bearer token: a principal, or the refusal's kind. */
  async function onMcp(accessToken: string): Promise<string> {
    try {
      const p = await bk.app
        .get(IdentityService)
        .authenticateRequest({ headers: { authorization: `Bearer ${accessToken}` } }, 'mcp');
      return `ok:${p.actor.id}`;
    } catch (err) {
      if (err instanceof AppError) return err.kind;
      throw err;
    }
  }

  const apiStatus = async (accessToken: string) =>
    (await bk.get('/oauth2/userinfo', accessToken)).status;

  it('publishes RFC 9728 metadata for the API and the MCP endpoint, and the MCP scopes', async () => {
    const api = await fetch(`${bk.url}/.well-known/oauth-protected-resource`);
    expect(api.status).toBe(200);
    expect(await api.json()).toEqual({
      resource: bk.config.oauth.audience,
      authorization_servers: [bk.url],
      bearer_methods_supported: ['header'],
      resource_name: 'Bridgekeeper API',
    });
    const m = await fetch(`${bk.url}/.well-known/oauth-protected-resource/mcp`);
    expect(await m.json()).toEqual({
      resource: mcp,
      authorization_servers: [bk.url],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:read', 'mcp:write'],
      resource_name: 'Bridgekeeper MCP server',
    });
    const discovery = (await (
      await fetch(`${bk.url}/.well-known/openid-configuration`)
    ).json()) as { scopes_supported: string[] };
    expect(discovery.scopes_supported).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']));
  });

  it('client credentials: resource=<mcp> gives an MCP token (aud, MCP scopes) refused by the API', async () => {
    const res = await machineToken({ resource: mcp });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; scope: string };
    expect(body.scope).toBe('mcp:read mcp:write');
    expect(decodeJwt(body.access_token).aud).toBe(mcp);
    expect(await onMcp(body.access_token)).toMatch(/^ok:/);
    expect(await apiStatus(body.access_token)).toBe(401);

    const narrowed = await machineToken({ resource: mcp, scope: 'mcp:read' });
    expect(((await narrowed.json()) as { scope: string }).scope).toBe('mcp:read');
  });

  it('client credentials without resource: an API token, refused on the MCP endpoint', async () => {
    const res = await machineToken();
    const body = (await res.json()) as { access_token: string; scope: string };
    expect(body.scope).toBe('reports');
    expect(decodeJwt(body.access_token).aud).toBe(bk.config.oauth.audience);
    expect(await onMcp(body.access_token)).toBe('INVALID_TOKEN');
    const explicit = await machineToken({ resource: bk.config.oauth.audience });
    expect(decodeJwt(((await explicit.json()) as { access_token: string }).access_token).aud).toBe(
      bk.config.oauth.audience,
    );
  });

  it('an unknown resource is invalid_target; an MCP scope on the API is invalid_scope', async () => {
    for (const resource of [
      'https://evil.example.com/mcp',
      `${mcp}/`,
      `${bk.url}/MCP`,
      'not a uri',
    ]) {
      const res = await machineToken({ resource });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_target' });
    }
    const res = await machineToken({ scope: 'mcp:read' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_scope' });
    const twice = await fetch(`${bk.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&client_id=${machine.clientId}&client_secret=${machine.secret}&resource=${encodeURIComponent(mcp)}&resource=${encodeURIComponent(bk.config.oauth.audience)}`,
    });
    expect(twice.status).toBe(400);
  });

  it('never accepts an external provider token on the MCP endpoint (no passthrough)', async () => {
    expect(await apiStatus(adminToken)).toBe(200);
    expect(await onMcp(adminToken)).toBe('INVALID_TOKEN');
  });

  describe('authorization code and refresh', () => {
    async function codeFor(resource: string | undefined, scope: string) {
      const browser = new TestBrowser(bk.url);
      const verifier = oidc.randomPKCECodeVerifier();
      const q = new URLSearchParams({
        client_id: app.clientId,
        response_type: 'code',
        redirect_uri: REDIRECT,
        scope,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: 's',
      });
      if (resource !== undefined) q.set('resource', resource);
      const first = await browser.get(`/oauth2/authorize?${q.toString()}`);
      expect(first.status).toBe(303);
      const posted = await browser.submit(first.headers.get('location')!, {
        username: 'alice',
        password: PASSWORD,
      });
      const back = await browser.get(posted.headers.get('location')!);
      expect(back.status).toBe(302);
      return { callback: new URL(back.headers.get('location')!), verifier };
    }

    const redeem = (code: string, verifier: string, extra: Record<string, string> = {}) =>
      token({
        grant_type: 'authorization_code',
        client_id: app.clientId,
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        ...extra,
      });

    it('a code asked for the MCP resource gives MCP tokens, and every refresh keeps the resource', async () => {
      const { callback, verifier } = await codeFor(mcp, 'mcp:read offline_access');
      const res = await redeem(callback.searchParams.get('code')!, verifier, { resource: mcp });
      expect(res.status).toBe(200);
      const tokens = (await res.json()) as Record<string, string>;
      expect(decodeJwt(tokens.access_token).aud).toBe(mcp);
      expect(tokens.scope).toBe('mcp:read offline_access');
      expect(await onMcp(tokens.access_token)).toMatch(/^ok:/);
      expect(await apiStatus(tokens.access_token)).toBe(401);

      // Another resource at refresh: invalid_target, and the refresh token is not used up.
      const other = await token({
        grant_type: 'refresh_token',
        client_id: app.clientId,
        refresh_token: tokens.refresh_token,
        resource: bk.config.oauth.audience,
      });
      expect(other.status).toBe(400);
      expect(await other.json()).toMatchObject({ error: 'invalid_target' });
      const refreshed = await token({
        grant_type: 'refresh_token',
        client_id: app.clientId,
        refresh_token: tokens.refresh_token,
      });
      expect(refreshed.status).toBe(200);
      const again = (await refreshed.json()) as Record<string, string>;
      expect(decodeJwt(again.access_token).aud).toBe(mcp);
      expect(again.scope).toBe('mcp:read offline_access');
    });

    it('a code is redeemed only for its own resource', async () => {
      const { callback, verifier } = await codeFor(undefined, 'openid');
      const res = await redeem(callback.searchParams.get('code')!, verifier, { resource: mcp });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_target' });
    });

    it('an API code gives API tokens', async () => {
      const { callback, verifier } = await codeFor(bk.config.oauth.audience, 'openid');
      const res = await redeem(callback.searchParams.get('code')!, verifier);
      const tokens = (await res.json()) as Record<string, string>;
      expect(decodeJwt(tokens.access_token).aud).toBe(bk.config.oauth.audience);
      expect(await apiStatus(tokens.access_token)).toBe(200);
      expect(await onMcp(tokens.access_token)).toBe('INVALID_TOKEN');
    });

    it('authorize refuses an unknown resource and MCP scopes without the MCP resource', async () => {
      const browser = new TestBrowser(bk.url);
      const base = {
        client_id: app.clientId,
        response_type: 'code',
        redirect_uri: REDIRECT,
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        state: 's',
      };
      const bad = await browser.get(
        `/oauth2/authorize?${new URLSearchParams({ ...base, scope: 'openid', resource: 'https://evil.example.com/' }).toString()}`,
      );
      expect(bad.status).toBe(302);
      expect(new URL(bad.headers.get('location')!).searchParams.get('error')).toBe(
        'invalid_target',
      );
      const scope = await browser.get(
        `/oauth2/authorize?${new URLSearchParams({ ...base, scope: 'mcp:read' }).toString()}`,
      );
      expect(new URL(scope.headers.get('location')!).searchParams.get('error')).toBe(
        'invalid_scope',
      );
    });
  });
});
