import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { SigningKeysService } from 'src/signing-keys/signing-keys.service';
import { type RunningBridgekeeper, startTwoNodes } from '../support/bridgekeeper';
import { parseForm, TestBrowser } from '../support/browser';
import { OidcIdp } from '../support/oidc-provider';
import { createProject, inviteMember, setMembershipActive } from '../support/gql-ops';
import { waitFor } from '../support/ports';
import { SmtpTestServer } from '../support/smtp';
import { type RedisServer, startRedis } from '../support/redis';

// Issue 9 §2: Bridgekeeper as an OpenID provider for people in browsers. openid-client (a certified
// relying-party library) completes code + PKCE and validates the ID token; the browser step is done
// with fetch (GET authorize → 303 /login → POST /login → 303 back → 302 to the redirect URI). Two
// nodes share PostgreSQL and Redis: a code made on one is redeemable on the other.
const CREATE_CLIENT = `mutation($input: CreateClientInput!) {
  createClient(input: $input) {
    client { id clientId tokenEndpointAuthMethod grantTypes redirectUris postLogoutRedirectUris }
    clientSecret
  }
}`;
const PASSWORD = 'correct horse battery staple';
const SPA_REDIRECT = 'http://127.0.0.1/cb';
const SPA_LOGOUT = 'https://spa.example.com/bye';

interface Created {
  client: { clientId: string; redirectUris: string[]; tokenEndpointAuthMethod: string };
  clientSecret: string | null;
}

describe('authorization code flow (OpenID provider)', () => {
  let idp: OidcIdp;
  let redis: RedisServer;
  let smtp: SmtpTestServer;
  let a: RunningBridgekeeper;
  let b: RunningBridgekeeper;
  let adminToken: string;
  let actorId: string;
  let spa: Created;
  let rp: Created;

  beforeAll(async () => {
    [idp, redis, smtp] = await Promise.all([OidcIdp.start(), startRedis(), SmtpTestServer.start()]);
    const issuers = [
      { name: 'idp', issuer: idp.issuer, jwks: idp.jwksUrl, audiences: idp.audience },
    ];
    [a, b] = await startTwoNodes({
      issuers,
      admins: ['idp:root'],
      redisUrl: redis.url,
      properties: { 'bridgekeeper.smtp.url': smtp.url },
    });
    adminToken = await idp.login('root');
    ({ actorId } = await a.app.get(LocalAccountsService).create({
      username: 'alice',
      email: 'alice@example.com',
      displayName: 'Alice Liddell',
      password: PASSWORD,
    }));
    spa = await createClient({
      name: 'spa',
      grantTypes: ['AUTHORIZATION_CODE', 'REFRESH_TOKEN'],
      scopes: ['openid', 'profile', 'email', 'offline_access', 'api'],
      tokenEndpointAuthMethod: 'NONE',
      redirectUris: [SPA_REDIRECT, 'https://spa.example.com/cb'],
      postLogoutRedirectUris: [SPA_LOGOUT],
    });
    rp = await createClient({
      name: 'rp',
      grantTypes: ['AUTHORIZATION_CODE'],
      scopes: ['api'],
      redirectUris: ['https://rp.example.com/cb'],
    });
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await Promise.all([idp?.stop(), redis?.stop(), smtp?.stop()]);
  });

  async function createClient(input: Record<string, unknown>): Promise<Created> {
    const res = await a.graphql(CREATE_CLIENT, adminToken, { input });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.createClient as Created;
  }

  function authorizePath(params: Record<string, string | undefined>): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
    return `/oauth2/authorize?${q.toString()}`;
  }

  /** PKCE parameters for an authorization request of the SPA. */
  async function pkce(): Promise<{ verifier: string; challenge: string }> {
    const verifier = oidc.randomPKCECodeVerifier();
    return { verifier, challenge: await oidc.calculatePKCECodeChallenge(verifier) };
  }

  async function spaRequest(extra: Record<string, string | undefined> = {}) {
    const { verifier, challenge } = await pkce();
    const path = authorizePath({
      client_id: spa.client.clientId,
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1:53123/cb',
      scope: 'openid profile email offline_access',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st-1',
      nonce: 'n-1',
      ...extra,
    });
    return { path, verifier };
  }

  /** The browser step: authorize → login → back → the redirect to the client. */
  async function signIn(browser: TestBrowser, path: string, username = 'alice'): Promise<URL> {
    const first = await browser.get(path);
    expect(first.status).toBe(303);
    const login = first.headers.get('location')!;
    expect(login).toMatch(/^\/login\?return_to=/);
    const posted = await browser.submit(login, { username, password: PASSWORD });
    expect(posted.status).toBe(303);
    const back = await browser.get(posted.headers.get('location')!);
    expect(back.status).toBe(302);
    return new URL(back.headers.get('location')!);
  }

  function token(node: RunningBridgekeeper, form: Record<string, string>) {
    return fetch(`${node.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  function redeem(node: RunningBridgekeeper, code: string, verifier: string, extra = {}) {
    return token(node, {
      grant_type: 'authorization_code',
      client_id: spa.client.clientId,
      code,
      redirect_uri: 'http://127.0.0.1:53123/cb',
      code_verifier: verifier,
      ...extra,
    });
  }

  const userinfoStatus = async (node: RunningBridgekeeper, accessToken: string) =>
    (await node.get('/oauth2/userinfo', accessToken)).status;

  /** The SPA's refresh token of a revoked grant is refused. */
  async function expectRefreshRefused(refreshToken: string): Promise<void> {
    const refresh = await token(a, {
      grant_type: 'refresh_token',
      client_id: spa.client.clientId,
      refresh_token: refreshToken,
    });
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
  }

  /** Signs in through code + PKCE with offline_access; the tokens of the grant made. */
  async function signedInWithTokens(
    browser: TestBrowser,
    username = 'alice',
  ): Promise<Record<string, string>> {
    const { path, verifier } = await spaRequest();
    const callback = await signIn(browser, path, username);
    const res = await redeem(a, callback.searchParams.get('code')!, verifier);
    expect(res.status).toBe(200);
    const tokens = (await res.json()) as Record<string, string>;
    expect(tokens.refresh_token).toBeTruthy();
    return tokens;
  }

  /** The grant ended: its access token refused on both nodes, its refresh token invalid_grant. */
  async function expectGrantEnded(tokens: Record<string, string>): Promise<void> {
    expect(await userinfoStatus(a, tokens.access_token)).toBe(401);
    await waitFor(
      'node b refusing the revoked token',
      async () => (await userinfoStatus(b, tokens.access_token)) === 401,
      2000,
    );
    const refresh = await token(b, {
      grant_type: 'refresh_token',
      client_id: spa.client.clientId,
      refresh_token: tokens.refresh_token,
    });
    expect(refresh.status).toBe(400);
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
  }

  it('registers public and confidential clients with redirect URIs in GraphQL', () => {
    expect(spa.clientSecret).toBeNull();
    expect(spa.client.tokenEndpointAuthMethod).toBe('NONE');
    expect(spa.client.redirectUris).toEqual([SPA_REDIRECT, 'https://spa.example.com/cb']);
    expect(rp.clientSecret).toMatch(/^bks_/);
  });

  it('refuses unsafe client registrations with a clear 400-class error', async () => {
    for (const input of [
      { name: 'x', grantTypes: ['AUTHORIZATION_CODE'], scopes: [], redirectUris: [] },
      {
        name: 'x',
        grantTypes: ['AUTHORIZATION_CODE'],
        scopes: [],
        redirectUris: ['http://evil.example.com/cb'],
      },
      {
        name: 'x',
        grantTypes: ['AUTHORIZATION_CODE'],
        scopes: [],
        redirectUris: ['https://app.example.com/cb#frag'],
      },
      {
        name: 'x',
        grantTypes: ['CLIENT_CREDENTIALS'],
        scopes: [],
        tokenEndpointAuthMethod: 'NONE',
      },
    ]) {
      const res = await a.graphql(CREATE_CLIENT, adminToken, { input });
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  it('discovery advertises exactly the code flow it implements', async () => {
    const meta = (await (await a.get('/.well-known/openid-configuration')).json()) as Record<
      string,
      unknown
    >;
    expect(meta).toMatchObject({
      issuer: a.url,
      authorization_endpoint: `${a.url}/oauth2/authorize`,
      end_session_endpoint: `${a.url}/oauth2/end_session`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      id_token_signing_alg_values_supported: ['ES256'],
    });
    expect(meta.grant_types_supported).toContain('authorization_code');
    expect(meta.token_endpoint_auth_methods_supported).toContain('none');
    expect(meta.introspection_endpoint_auth_methods_supported).not.toContain('none');
    expect(meta.scopes_supported).toEqual([
      'openid',
      'profile',
      'email',
      'offline_access',
      'mcp:read',
      'mcp:write',
    ]);
  });

  it('completes code + PKCE with openid-client, which validates the ID token', async () => {
    const config = await oidc.discovery(
      new URL(a.url),
      spa.client.clientId,
      undefined,
      oidc.None(),
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      // A loopback client may use any port (RFC 8252 §7.3): the registered URI has none.
      redirect_uri: 'http://127.0.0.1:53123/cb',
      scope: 'openid profile email offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const browser = new TestBrowser(a.url);
    const callback = await signIn(browser, url.pathname + url.search);
    expect(callback.origin + callback.pathname).toBe('http://127.0.0.1:53123/cb');
    expect(callback.searchParams.get('iss')).toBe(a.url);
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ typ: 'JWT', alg: 'ES256' });
    expect(claims).toMatchObject({
      iss: a.url,
      sub: actorId,
      aud: spa.client.clientId,
      azp: spa.client.clientId,
      nonce,
      amr: ['pwd'],
    });
    expect(typeof claims.sid).toBe('string');
    expect(typeof claims.auth_time).toBe('number');
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt');
    expect(decodeJwt(tokens.access_token)).toMatchObject({
      sub: actorId,
      client_id: spa.client.clientId,
    });
    expect(tokens.refresh_token).toMatch(/^bkr_/);
    const info = await oidc.fetchUserInfo(config, tokens.access_token, actorId);
    expect(info).toMatchObject({
      sub: actorId,
      email: 'alice@example.com',
      preferred_username: 'alice',
    });
    // The refresh token rotates.
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
  });

  it('keeps the OpenID scopes of a sign-in grant at refresh, even when the client does not list them', async () => {
    const narrow = await createClient({
      name: 'narrow',
      grantTypes: ['AUTHORIZATION_CODE', 'REFRESH_TOKEN'],
      scopes: ['offline_access'],
      tokenEndpointAuthMethod: 'NONE',
      redirectUris: [SPA_REDIRECT],
    });
    const { verifier, challenge } = await pkce();
    const callback = await signIn(
      new TestBrowser(a.url),
      authorizePath({
        client_id: narrow.client.clientId,
        response_type: 'code',
        redirect_uri: SPA_REDIRECT,
        scope: 'openid email offline_access',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    const first = (await (
      await token(a, {
        grant_type: 'authorization_code',
        client_id: narrow.client.clientId,
        code: callback.searchParams.get('code')!,
        redirect_uri: SPA_REDIRECT,
        code_verifier: verifier,
      })
    ).json()) as Record<string, string>;
    expect(first.scope).toBe('openid email offline_access');
    const refreshed = (await (
      await token(b, {
        grant_type: 'refresh_token',
        client_id: narrow.client.clientId,
        refresh_token: first.refresh_token,
      })
    ).json()) as Record<string, string>;
    expect(refreshed.scope).toBe('openid email offline_access');
  });

  it('redeems a code made on one node at the other', async () => {
    const browser = new TestBrowser(a.url);
    const { path, verifier } = await spaRequest();
    const callback = await signIn(browser, path);
    const res = await redeem(b, callback.searchParams.get('code')!, verifier);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body.id_token).toBeDefined();
    expect(await userinfoStatus(b, body.access_token)).toBe(200);
  });

  describe('SECURITY rule 21: code flow only, PKCE S256, exact redirect URIs, single-use codes', () => {
    let browser: TestBrowser;

    beforeAll(async () => {
      browser = new TestBrowser(a.url);
      const { path } = await spaRequest();
      await signIn(browser, path);
    });

    async function errorAtClient(extra: Record<string, string | undefined>): Promise<URL> {
      const { path } = await spaRequest(extra);
      const res = await browser.get(path);
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!);
      expect(location.origin + location.pathname).toBe('http://127.0.0.1:53123/cb');
      expect(location.searchParams.get('iss')).toBe(a.url);
      expect(location.searchParams.get('code')).toBeNull();
      return location;
    }

    it('refuses a request without PKCE or with plain PKCE, at the client with state and iss', async () => {
      for (const extra of [
        { code_challenge: undefined, code_challenge_method: undefined },
        { code_challenge_method: undefined },
        { code_challenge_method: 'plain' },
      ]) {
        const location = await errorAtClient(extra);
        expect(location.searchParams.get('error')).toBe('invalid_request');
        expect(location.searchParams.get('state')).toBe('st-1');
      }
      const implicit = await errorAtClient({ response_type: 'token' });
      expect(implicit.searchParams.get('error')).toBe('unsupported_response_type');
      const scope = await errorAtClient({ scope: 'openid admin' });
      expect(scope.searchParams.get('error')).toBe('invalid_scope');
    });

    it('never redirects to an unknown client or an unregistered redirect URI: an error page', async () => {
      for (const extra of [
        { redirect_uri: 'https://evil.example.com/cb' },
        { redirect_uri: 'https://spa.example.com/cb/' },
        { redirect_uri: 'http://localhost:53123/cb' },
        { redirect_uri: undefined },
        { client_id: 'bkc_unknown' },
        { client_id: rp.client.clientId },
      ]) {
        const { path } = await spaRequest(extra);
        const res = await browser.get(path);
        expect(res.status).toBe(400);
        expect(res.headers.get('location')).toBeNull();
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
        const text = await res.text();
        expect(text).not.toContain('evil.example.com');
      }
    });

    it('answers prompt=none with a code when signed in and login_required when not', async () => {
      const signedIn = await spaRequest({ prompt: 'none' });
      const ok = await browser.get(signedIn.path);
      expect(new URL(ok.headers.get('location')!).searchParams.get('code')).toMatch(/^bka_/);
      const stranger = new TestBrowser(a.url);
      const res = await stranger.get(signedIn.path);
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!);
      expect(location.searchParams.get('error')).toBe('login_required');
      expect(location.searchParams.get('iss')).toBe(a.url);
      expect(location.searchParams.get('state')).toBe('st-1');
    });

    it('forces the login form with prompt=login, then issues the code after it', async () => {
      const { path } = await spaRequest({ prompt: 'login' });
      const res = await browser.get(path);
      expect(res.status).toBe(303);
      const login = res.headers.get('location')!;
      expect(new URL(login, a.url).searchParams.get('prompt')).toBe('login');
      const posted = await browser.submit(login, { username: 'alice', password: PASSWORD });
      const back = await browser.get(posted.headers.get('location')!);
      expect(back.status).toBe(302);
      expect(new URL(back.headers.get('location')!).searchParams.get('code')).toMatch(/^bka_/);
    });

    it('refuses a replayed code and revokes the tokens it produced, on every node', async () => {
      const { path, verifier } = await spaRequest();
      const code = new URL((await browser.get(path)).headers.get('location')!).searchParams.get(
        'code',
      )!;
      const first = await redeem(a, code, verifier);
      expect(first.status).toBe(200);
      const tokens = (await first.json()) as Record<string, string>;
      expect(await userinfoStatus(b, tokens.access_token)).toBe(200);
      const replay = await redeem(b, code, verifier);
      expect(replay.status).toBe(400);
      expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
      expect(await userinfoStatus(a, tokens.access_token)).toBe(401);
      await waitFor(
        'node b refusing the revoked token',
        async () => (await userinfoStatus(b, tokens.access_token)) === 401,
        2000,
      );
      await expectRefreshRefused(tokens.refresh_token);
    });

    it('of concurrent redemptions of one code on two nodes, exactly one succeeds, and its tokens are revoked', async () => {
      const { path, verifier } = await spaRequest();
      const code = new URL((await browser.get(path)).headers.get('location')!).searchParams.get(
        'code',
      )!;
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) => redeem(i % 2 ? b : a, code, verifier)),
      );
      const ok = answers.filter((r) => r.status === 200);
      expect(ok).toHaveLength(1);
      expect(answers.filter((r) => r.status === 400)).toHaveLength(5);
      const tokens = (await ok[0].json()) as Record<string, string>;
      expect(tokens.refresh_token).toMatch(/^bkr_/);
      // The replays revoked the grant the winner got: its access and refresh tokens are dead.
      await waitFor(
        'both nodes refusing the revoked token',
        async () =>
          (await userinfoStatus(a, tokens.access_token)) === 401 &&
          (await userinfoStatus(b, tokens.access_token)) === 401,
        2000,
      );
      await expectRefreshRefused(tokens.refresh_token);
    });

    it('refuses a wrong verifier, another redirect URI or another client, and the code is then used up', async () => {
      for (const extra of [
        { code_verifier: oidc.randomPKCECodeVerifier() },
        { redirect_uri: 'https://spa.example.com/cb' },
        { code_verifier: 'too-short' },
      ]) {
        const { path, verifier } = await spaRequest();
        const code = new URL((await browser.get(path)).headers.get('location')!).searchParams.get(
          'code',
        )!;
        const wrong = await redeem(a, code, verifier, extra);
        expect(wrong.status).toBe(400);
        expect(await wrong.json()).toMatchObject({ error: 'invalid_grant' });
        // Not even the right verifier redeems it now.
        const after = await redeem(a, code, verifier);
        expect(after.status).toBe(400);
      }
      // The code of the public SPA presented by the confidential RP client.
      const { path, verifier } = await spaRequest();
      const code = new URL((await browser.get(path)).headers.get('location')!).searchParams.get(
        'code',
      )!;
      const stolen = await token(a, {
        grant_type: 'authorization_code',
        client_id: rp.client.clientId,
        client_secret: rp.clientSecret!,
        code,
        redirect_uri: 'http://127.0.0.1:53123/cb',
        code_verifier: verifier,
      });
      expect(stolen.status).toBe(400);
      expect(await stolen.json()).toMatchObject({ error: 'invalid_grant' });
      // Another client's attempt does not use up the SPA's code (the SPA did nothing wrong).
      expect((await redeem(a, code, verifier)).status).toBe(200);
    });

    it('lets a public client authenticate with its verifier alone, never with a made-up secret', async () => {
      const { path, verifier } = await spaRequest();
      const code = new URL((await browser.get(path)).headers.get('location')!).searchParams.get(
        'code',
      )!;
      const withSecret = await redeem(a, code, verifier, { client_secret: 'bks_guess' });
      expect(withSecret.status).toBe(401);
      expect(await withSecret.json()).toMatchObject({ error: 'invalid_client' });
      // A public client cannot use the introspection endpoint (it has nothing to authenticate with).
      const introspect = await fetch(`${a.url}/oauth2/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: spa.client.clientId, token: 'x' }).toString(),
      });
      expect(introspect.status).toBe(401);
    });
  });

  describe('SECURITY rule 10: ID, access, refresh tokens and codes are never used for one another', () => {
    let tokens: Record<string, string>;
    let code: string;
    let verifier: string;

    beforeAll(async () => {
      const browser = new TestBrowser(a.url);
      const first = await spaRequest();
      const callback = await signIn(browser, first.path);
      tokens = (await (
        await redeem(a, callback.searchParams.get('code')!, first.verifier)
      ).json()) as Record<string, string>;
      const second = await spaRequest();
      verifier = second.verifier;
      code = new URL((await browser.get(second.path)).headers.get('location')!).searchParams.get(
        'code',
      )!;
    });

    it('refuses an ID token as a bearer access token (typ JWT, not at+jwt)', async () => {
      const res = await a.get('/oauth2/userinfo', tokens.id_token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      const gql = await a.graphql('{ me { id } }', tokens.id_token);
      expect(gql.body.data?.me ?? null).toBeNull();
      expect(await userinfoStatus(a, tokens.access_token)).toBe(200);
    });

    it('requires typ at+jwt for our own access tokens: the same claims signed as typ JWT are refused', async () => {
      const keys = a.app.get(SigningKeysService);
      const claims = decodeJwt(tokens.access_token);
      const asAccess = (await keys.sign({ ...claims, jti: `${claims.jti}-a` }, 'at+jwt')).token;
      const asJwt = (await keys.sign({ ...claims, jti: `${claims.jti}-b` }, 'JWT')).token;
      expect(await userinfoStatus(a, asAccess)).toBe(200);
      const res = await a.get('/oauth2/userinfo', asJwt);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });

    it('refuses an access token as id_token_hint, a code as a refresh token and a refresh token as a code', async () => {
      const hint = await new TestBrowser(a.url).get(
        `/oauth2/end_session?id_token_hint=${tokens.access_token}`,
      );
      expect(hint.status).toBe(400);
      const asRefresh = await token(a, {
        grant_type: 'refresh_token',
        client_id: spa.client.clientId,
        refresh_token: code,
      });
      expect(await asRefresh.json()).toMatchObject({ error: 'invalid_grant' });
      const asCode = await redeem(a, tokens.refresh_token, verifier);
      expect(await asCode.json()).toMatchObject({ error: 'invalid_grant' });
      const idAsCode = await redeem(a, tokens.id_token, verifier);
      expect(await idAsCode.json()).toMatchObject({ error: 'invalid_grant' });
      // The real code and refresh token still work: nothing was used up by the mix-ups.
      expect((await redeem(a, code, verifier)).status).toBe(200);
      const refresh = await token(a, {
        grant_type: 'refresh_token',
        client_id: spa.client.clientId,
        refresh_token: tokens.refresh_token,
      });
      expect(refresh.status).toBe(200);
    });
  });

  describe('RP-initiated logout (end_session)', () => {
    it('with an id_token_hint: ends the browser session and its grants, then returns with state', async () => {
      const browser = new TestBrowser(a.url);
      const tokens = await signedInWithTokens(browser);
      const res = await browser.get(
        `/oauth2/end_session?${new URLSearchParams({
          id_token_hint: tokens.id_token,
          post_logout_redirect_uri: SPA_LOGOUT,
          state: 'bye-1',
        }).toString()}`,
      );
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`${SPA_LOGOUT}?state=bye-1`);
      await expectGrantEnded(tokens);
      // The browser is signed out: prompt=none now answers login_required.
      const again = await browser.get((await spaRequest({ prompt: 'none' })).path);
      expect(new URL(again.headers.get('location')!).searchParams.get('error')).toBe(
        'login_required',
      );
    });

    it('accepts an expired id_token_hint (signature still verified), refuses a forged one', async () => {
      const browser = new TestBrowser(a.url);
      const { path } = await spaRequest();
      const callback = await signIn(browser, path);
      expect(callback.searchParams.get('code')).toBeTruthy();
      // The session id, from a real ID token of this browser.
      const { path: p2, verifier: v2 } = await spaRequest({ prompt: 'none' });
      const c2 = new URL((await browser.get(p2)).headers.get('location')!).searchParams.get(
        'code',
      )!;
      const idToken = ((await (await redeem(a, c2, v2)).json()) as Record<string, string>).id_token;
      const sid = decodeJwt(idToken).sid as string;
      const past = Math.floor(Date.now() / 1000) - 7200;
      const keys = a.app.get(SigningKeysService);
      const expired = (
        await keys.sign(
          { iss: a.url, sub: actorId, aud: spa.client.clientId, sid, iat: past, exp: past + 300 },
          'JWT',
        )
      ).token;
      const [h, p] = expired.split('.');
      const forged = `${h}.${p}.${'A'.repeat(86)}`;
      const refused = await browser.get(`/oauth2/end_session?id_token_hint=${forged}`);
      expect(refused.status).toBe(400);
      const ok = await browser.get(`/oauth2/end_session?id_token_hint=${expired}`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('signed out');
      const again = await browser.get((await spaRequest({ prompt: 'none' })).path);
      expect(new URL(again.headers.get('location')!).searchParams.get('error')).toBe(
        'login_required',
      );
    });

    it('without a hint: a confirmation page whose POST needs the CSRF token and our Origin', async () => {
      const browser = new TestBrowser(a.url);
      await signIn(browser, (await spaRequest()).path);
      const query = new URLSearchParams({
        client_id: spa.client.clientId,
        post_logout_redirect_uri: SPA_LOGOUT,
        state: 'bye-2',
      }).toString();
      const page = await browser.get(`/oauth2/end_session?${query}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      const form = parseForm(await page.text())!;
      expect(form.action).toBe('/oauth2/end_session');
      // Still signed in after merely looking at the page.
      const still = await browser.get((await spaRequest({ prompt: 'none' })).path);
      expect(new URL(still.headers.get('location')!).searchParams.get('code')).toBeTruthy();
      // An RP's own form post (no csrf field) only shows the confirmation page again.
      const { csrf, ...withoutCsrf } = form.hidden;
      expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect((await browser.post(form.action, withoutCsrf)).status).toBe(200);
      const emptyToken = await browser.post(form.action, { ...withoutCsrf, csrf: '' });
      expect(emptyToken.status).toBe(403);
      const crossSite = await browser.post(form.action, form.hidden, {
        origin: 'https://evil.example.com',
      });
      expect(crossSite.status).toBe(403);
      const confirmed = await browser.post(form.action, form.hidden);
      expect(confirmed.status).toBe(303);
      expect(confirmed.headers.get('location')).toBe(`${SPA_LOGOUT}?state=bye-2`);
      const after = await browser.get((await spaRequest({ prompt: 'none' })).path);
      expect(new URL(after.headers.get('location')!).searchParams.get('error')).toBe(
        'login_required',
      );
    });

    it('never redirects to an unregistered post_logout_redirect_uri', async () => {
      const res = await new TestBrowser(a.url).get(
        `/oauth2/end_session?${new URLSearchParams({
          client_id: spa.client.clientId,
          post_logout_redirect_uri: 'https://evil.example.com/',
        }).toString()}`,
      );
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
    });
  });

  describe('the other ways a browser session ends (login pages): its grants end too', () => {
    it('logout on the login pages ends the grants made in that browser session, on every node', async () => {
      const browser = new TestBrowser(a.url);
      const tokens = await signedInWithTokens(browser);
      expect(await userinfoStatus(b, tokens.access_token)).toBe(200);
      // Another browser's grant of the same person is not this session's: it stays.
      const other = await signedInWithTokens(new TestBrowser(a.url));
      const out = await browser.submit('/logout', {});
      expect(out.status).toBe(200);
      expect(await out.text()).toContain('signed out');
      await expectGrantEnded(tokens);
      expect(await userinfoStatus(a, other.access_token)).toBe(200);
      const refreshed = await token(a, {
        grant_type: 'refresh_token',
        client_id: spa.client.clientId,
        refresh_token: other.refresh_token,
      });
      expect(refreshed.status).toBe(200);
    });

    it('a new sign-in in the same browser ends the previous session and its grants', async () => {
      const browser = new TestBrowser(a.url);
      const tokens = await signedInWithTokens(browser);
      const { path, verifier } = await spaRequest({ prompt: 'login' });
      const callback = await signIn(browser, path);
      const fresh = (await (
        await redeem(a, callback.searchParams.get('code')!, verifier)
      ).json()) as Record<string, string>;
      await expectGrantEnded(tokens);
      expect(await userinfoStatus(a, fresh.access_token)).toBe(200);
    });

    it("a password reset ends the grants made in the account's browser sessions", async () => {
      const { actorId: bobId } = await a.app.get(LocalAccountsService).create({
        username: 'bob',
        email: 'bob@example.com',
        displayName: 'Bob',
        password: PASSWORD,
      });
      const tokens = await signedInWithTokens(new TestBrowser(a.url), 'bob');
      const before = smtp.received.length;
      const res = await a.graphql(
        `mutation($id: ID!) { sendPasswordResetLink(id: $id) { link } }`,
        adminToken,
        { id: bobId },
      );
      expect(res.body.errors).toBeUndefined();
      // Emailed (SMTP is configured): the link is in the message, never in the answer.
      expect(res.body.data!.sendPasswordResetLink).toEqual({ link: null });
      const link = await smtp.setPasswordLinkSentTo('bob@example.com', before);
      const resetting = new TestBrowser(a.url);
      expect((await resetting.get(link)).status).toBe(303);
      const newPassword = 'bob has a brand new passphrase';
      const done = await resetting.submit('/login/set-password', {
        password: newPassword,
        confirm: newPassword,
      });
      expect(done.status).toBe(303);
      await expectGrantEnded(tokens);
    });
  });
  describe('a client limited to a project', () => {
    const CB = 'http://127.0.0.1:53124/cb';
    let projectId: string;
    let clinic: Created;
    let carolId: string;

    beforeAll(async () => {
      projectId = await createProject(a, adminToken, 'clinic');
      clinic = await createClient({
        name: 'clinic-app',
        grantTypes: ['AUTHORIZATION_CODE', 'REFRESH_TOKEN'],
        scopes: ['openid', 'offline_access'],
        tokenEndpointAuthMethod: 'NONE',
        redirectUris: ['http://127.0.0.1/cb'],
        projectId,
      });
      ({ actorId: carolId } = await a.app.get(LocalAccountsService).create({
        username: 'carol',
        email: 'carol@example.com',
        displayName: 'Carol',
        password: PASSWORD,
      }));
    });

    async function clinicRequest() {
      const { verifier, challenge } = await pkce();
      const path = authorizePath({
        client_id: clinic.client.clientId,
        response_type: 'code',
        redirect_uri: CB,
        scope: 'openid offline_access',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: 'st-clinic',
      });
      return { path, verifier };
    }

    function redeemClinic(code: string, verifier: string) {
      return token(b, {
        grant_type: 'authorization_code',
        client_id: clinic.client.clientId,
        code,
        redirect_uri: CB,
        code_verifier: verifier,
      });
    }

    it('refuses a person who is not a member (access_denied to the client), then signs the member in with the project in the token', async () => {
      const browser = new TestBrowser(a.url);
      const refused = await signIn(browser, (await clinicRequest()).path, 'carol');
      expect(refused.searchParams.get('error')).toBe('access_denied');
      expect(refused.searchParams.get('code')).toBeNull();
      expect(refused.searchParams.get('state')).toBe('st-clinic');
      expect(refused.searchParams.get('iss')).toBe(a.url);

      // Dave is invited by email, sets his password from the link and is signed in.
      const before = smtp.received.length;
      const member = await inviteMember(a, adminToken, projectId, {
        firstName: 'Dave',
        lastName: 'Member',
        email: 'dave@example.com',
        sendEmail: true,
      });
      const link = await smtp.setPasswordLinkSentTo('dave@example.com', before);
      const dave = new TestBrowser(a.url);
      expect((await dave.get(link)).status).toBe(303);
      const set = await dave.submit('/login/set-password', {
        password: PASSWORD,
        confirm: PASSWORD,
      });
      expect(set.status).toBe(303);
      const { path, verifier } = await clinicRequest();
      // Setting the password signed Dave in: the authorization goes straight back to the client.
      const back = await dave.get(path);
      expect(back.status).toBe(302);
      const callback = new URL(back.headers.get('location')!);
      expect(callback.searchParams.get('error')).toBeNull();
      const res = await redeemClinic(callback.searchParams.get('code')!, verifier);
      expect(res.status).toBe(200);
      const tokens = (await res.json()) as Record<string, string>;
      const claims = decodeJwt(tokens.access_token);
      expect(claims.sub).toBe(member.actorId ?? claims.sub);
      expect(claims.sub).not.toBe(carolId);
      expect(claims.project).toBe(projectId);
      expect(claims.membership).toBe(member.id);
      const info = await fetch(`${b.url}/oauth2/userinfo`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      expect(info.status).toBe(200);
      expect(((await info.json()) as Record<string, unknown>).project).toBe(projectId);

      // A refresh keeps the project; once the membership is deactivated, neither a refresh, nor a
      // code issued before, nor a new authorization gets through.
      const refreshed = await token(a, {
        grant_type: 'refresh_token',
        client_id: clinic.client.clientId,
        refresh_token: tokens.refresh_token,
      });
      expect(refreshed.status).toBe(200);
      const next = (await refreshed.json()) as Record<string, string>;
      expect(decodeJwt(next.access_token).project).toBe(projectId);

      const pending = await clinicRequest();
      const pendingBack = await dave.get(pending.path);
      const pendingCode = new URL(pendingBack.headers.get('location')!).searchParams.get('code')!;
      expect(pendingCode).toBeTruthy();
      await setMembershipActive(a, adminToken, member.id, false);

      const late = await redeemClinic(pendingCode, pending.verifier);
      expect(late.status).toBe(400);
      expect(((await late.json()) as Record<string, string>).error).toBe('invalid_grant');
      // (On the node that made the change at once; on the others within a second: SECURITY rule 13.)
      const refusedRefresh = await token(a, {
        grant_type: 'refresh_token',
        client_id: clinic.client.clientId,
        refresh_token: next.refresh_token,
      });
      expect(refusedRefresh.status).toBe(400);
      const again = await dave.get((await clinicRequest()).path);
      expect(again.status).toBe(302);
      expect(new URL(again.headers.get('location')!).searchParams.get('error')).toBe(
        'access_denied',
      );
    });
  });
});
