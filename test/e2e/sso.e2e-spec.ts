import { decodeJwt } from 'jose';
import { ActorsService } from 'src/actors/actors.service';
import { BrowserSessionsService } from 'src/browser-sessions/browser-sessions.service';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { TestBrowser } from '../support/browser';
import { actorIdOf } from '../support/gql-ops';
import { counter } from '../support/metrics';
import { OidcIdp } from '../support/oidc-provider';
import { query } from '../support/postgres';
import {
  authorizeRequest,
  createSpa,
  follow,
  redeemCode,
  signInAtIdp,
  SSO_SECRET,
  startWithSsoProvider,
} from '../support/sso';

// Issue 9 §4: people sign in through an external OpenID provider (a real oidc-provider on loopback, with
// its own login form), Bridgekeeper being the relying party through openid-client. The provider is a
// trusted issuer, so the person lands as the same (issuer, sub) actor its API tokens map to. Refusals:
// tampered state, replayed callback, wrong nonce, missing claim, authority not trusted.
const SPA_REDIRECT = 'http://127.0.0.1:53123/cb';
const SPA_LOGOUT = 'https://spa.example.com/bye';
const PROVIDER_FIELDS = `id name displayName authority clientId hasClientSecret scopes
  claimMappings { email firstName lastName custom { claim attribute } }
  forwardedParameters enabled readOnly callbackUrl logoutRedirectUrl createdAt updatedAt`;
const LIST = `{ ssoProviders { ${PROVIDER_FIELDS} } }`;
const CREATE = `mutation($input: CreateSsoProviderInput!) { createSsoProvider(input: $input) { ${PROVIDER_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateSsoProviderInput!) { updateSsoProvider(id: $id, input: $input) { ${PROVIDER_FIELDS} } }`;
const DELETE = `mutation($id: ID!) { deleteSsoProvider(id: $id) }`;

interface ProviderView {
  id: string;
  name: string;
  hasClientSecret: boolean;
  readOnly: boolean;
  callbackUrl: string;
  logoutRedirectUrl: string;
  claimMappings: { custom: { claim: string; attribute: string }[] };
}

describe('sign-in through an external OpenID provider (SSO)', () => {
  let idp: OidcIdp;
  let bk: RunningBridgekeeper;
  let adminToken: string;
  let spaClientId: string;

  beforeAll(async () => {
    idp = await OidcIdp.start();
    bk = await startWithSsoProvider(idp);
    adminToken = await idp.login('root');
    spaClientId = await createSpa(bk, adminToken, SPA_REDIRECT, [SPA_LOGOUT]);
  });

  afterAll(async () => {
    await bk?.close();
    await idp?.stop();
  });

  /** An authorization request of the SPA (PKCE), optionally with a login_hint. */
  const authorizeSpa = (loginHint?: string) =>
    authorizeRequest(spaClientId, SPA_REDIRECT, loginHint ? { login_hint: loginHint } : {});

  /** authorize → /login (with the provider button) → the button → the IdP's login form. */
  async function toIdpLogin(browser: TestBrowser, path: string, button = 'Corp Login') {
    const first = await browser.get(path);
    expect(first.status).toBe(303);
    const login = await browser.get(first.headers.get('location')!);
    expect(login.status).toBe(200);
    const html = await login.text();
    const link = new RegExp(`<a class="button" href="([^"]+)"\\s*>Continue with ${button}</a`).exec(
      html,
    );
    expect(link).not.toBeNull();
    const href = link![1].replace(/&amp;/g, '&');
    return follow(browser, href);
  }

  /** A whole sign-in through the IdP as `login`; the redirect to the SPA and the code's verifier. */
  async function signInThroughIdp(browser: TestBrowser, login: string) {
    const { path, verifier } = await authorizeSpa(login);
    const callback = await signInAtIdp(browser, await toIdpLogin(browser, path), login, login);
    const back = await browser.get(callback.href);
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe(path);
    const toSpa = await browser.get(path);
    expect(toSpa.status).toBe(302);
    return { redirect: new URL(toSpa.headers.get('location')!), verifier, callback };
  }

  const redeem = (code: string, verifier: string) =>
    redeemCode(bk, spaClientId, SPA_REDIRECT, code, verifier);

  const sessionOf = (browser: TestBrowser) =>
    bk.app.get(BrowserSessionsService).current({
      headers: { cookie: browser.cookieHeader() },
    } as never);

  it('signs in through the provider’s own form: login_hint forwarded, claims mapped, the same actor as its API tokens, then the authorization request continues', async () => {
    const before = await counter(bk, 'bridgekeeper_logins_total', { result: 'success' });
    const browser = new TestBrowser(bk.url);
    const { redirect, verifier } = await signInThroughIdp(browser, 'alice');
    expect(redirect.origin + redirect.pathname).toBe(SPA_REDIRECT);
    expect(redirect.searchParams.get('state')).toBe('app-state');
    const tokens = await redeem(redirect.searchParams.get('code')!, verifier);
    const idToken = decodeJwt(tokens.id_token);
    // The (corp, alice) actor, created just in time by this sign-in, its profile from the mapped claims.
    const actor = await bk.app.get(ActorsService).findByIdentity('corp', 'alice');
    expect(actor).toMatchObject({
      email: 'alice@example.test',
      givenName: 'Given alice',
      familyName: 'Family alice',
    });
    expect(idToken.sub).toBe(actor!.id);
    expect(idToken.amr).toEqual(['fed']);
    // The provider's API token for the same person maps to the same actor.
    expect(await actorIdOf(bk, await idp.login('alice'))).toBe(actor!.id);
    // Custom claims are attributes of the actor (TagoIO tags), shown in GraphQL.
    const seen = await bk.graphql(
      'query($id: ID!) { actor(id: $id) { attributes { name value } } }',
      adminToken,
      {
        id: actor!.id,
      },
    );
    expect(seen.body.data!.actor).toEqual({
      attributes: [{ name: 'tags', value: '["blue","green"]' }],
    });
    expect(await counter(bk, 'bridgekeeper_logins_total', { result: 'success' })).toBe(before + 1);
    const logged = bk.logs.filter((l) => l.includes('"method":"sso"')).join('\n');
    expect(logged).toContain('"event":"login.success"');
    expect(logged).not.toContain(SSO_SECRET);
    expect(logged).not.toContain(tokens.id_token);
  });

  it('continues to the provider’s sign-out after end_session, then to the client’s post-logout URI', async () => {
    const browser = new TestBrowser(bk.url);
    const { redirect, verifier } = await signInThroughIdp(browser, 'bob');
    const tokens = await redeem(redirect.searchParams.get('code')!, verifier);
    expect(await sessionOf(browser)).not.toBeNull();
    const q = new URLSearchParams({
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: SPA_LOGOUT,
      state: 'bye-state',
    });
    const ended = await browser.get(`/oauth2/end_session?${q.toString()}`);
    expect(ended.status).toBe(303);
    expect(await sessionOf(browser)).toBeNull();
    const upstream = new URL(ended.headers.get('location')!);
    expect(upstream.origin).toBe(idp.issuer);
    expect(upstream.searchParams.get('post_logout_redirect_uri')).toBe(
      `${bk.url}/login/sso/corp/logged-out`,
    );
    expect(upstream.searchParams.get('id_token_hint')).toBeTruthy();
    // The provider asks "Do you want to sign-out?"; yes.
    const confirm = await follow(browser, upstream);
    expect(confirm.res.status).toBe(200);
    const html = await confirm.res.text();
    const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html)!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(form[2])![1];
    const posted = await browser.post(new URL(form[1], confirm.url).href, {
      xsrf,
      logout: 'yes',
    });
    const back = await follow(browser, new URL(posted.headers.get('location')!, confirm.url), (u) =>
      u.href.startsWith(SPA_LOGOUT),
    );
    expect(back.url.pathname).toBe('/login/sso/corp/logged-out');
    const final = new URL(back.res.headers.get('location')!);
    expect(final.origin + final.pathname).toBe(SPA_LOGOUT);
    expect(final.searchParams.get('state')).toBe('bye-state');
    // Signed out at the provider too: a new sign-in shows its login form again.
    const again = await toIdpLogin(browser, (await authorizeSpa()).path);
    expect(await again.res.text()).toContain('name="login"');
  });

  it('refuses a tampered state, and the sign-in cannot be retried with the right one', async () => {
    const browser = new TestBrowser(bk.url);
    const { path } = await authorizeSpa('carol');
    const callback = await signInAtIdp(browser, await toIdpLogin(browser, path), 'carol');
    const tampered = new URL(callback);
    // Another first character (a random state starts with 'x' one time in 64).
    const state = callback.searchParams.get('state')!;
    tampered.searchParams.set('state', (state.startsWith('x') ? 'y' : 'x') + state.slice(1));
    const cookie = browser.cookies.get('bk_sso')!;
    const res = await browser.get(tampered.href);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('(state)');
    expect(browser.cookies.has('bk_session')).toBe(false);
    browser.cookies.set('bk_sso', cookie);
    const retry = await browser.get(callback.href);
    expect(retry.status).toBe(400);
    expect(await retry.text()).toContain('already used or has expired');
  });

  it('refuses a replayed callback (single use, even with the same cookie)', async () => {
    const browser = new TestBrowser(bk.url);
    const { path } = await authorizeSpa('dave');
    const callback = await signInAtIdp(browser, await toIdpLogin(browser, path), 'dave');
    const cookie = browser.cookies.get('bk_sso')!;
    const first = await browser.get(callback.href);
    expect(first.status).toBe(303);
    const attacker = new TestBrowser(bk.url);
    attacker.cookies.set('bk_sso', cookie);
    const replay = await attacker.get(callback.href);
    expect(replay.status).toBe(400);
    expect(attacker.cookies.has('bk_session')).toBe(false);
    // Without the browser's cookie, a stolen callback URL is worth nothing either.
    const stranger = await new TestBrowser(bk.url).get(callback.href);
    expect(stranger.status).toBe(400);
  });

  it('refuses an ID token whose nonce is not the one sent', async () => {
    const browser = new TestBrowser(bk.url);
    const { path } = await authorizeSpa('erin');
    const callback = await signInAtIdp(browser, await toIdpLogin(browser, path), 'erin');
    // The sign-in in flight now expects another nonce than the one the provider puts in the ID token.
    await query(
      bk.databaseUrl,
      "UPDATE sso_pending SET nonce = 'not-the-nonce-sent' WHERE kind = 'login'",
    );
    const res = await browser.get(callback.href);
    expect(res.status).toBe(400);
    expect(browser.cookies.has('bk_session')).toBe(false);
    expect(await bk.app.get(ActorsService).findByIdentity('corp', 'erin')).toBeNull();
    // openid-client compared the ID token's nonce with the one expected, and refused.
    expect(
      bk.logs.some((l) => l.includes('provider_refused:OAUTH_JWT_CLAIM_COMPARISON_FAILED')),
    ).toBe(true);
  });

  it('refuses a sign-in without a required claim with a page naming it (no loop)', async () => {
    const before = await counter(bk, 'bridgekeeper_logins_total', { result: 'failure' });
    const browser = new TestBrowser(bk.url);
    const { path } = await authorizeSpa();
    const callback = await signInAtIdp(browser, await toIdpLogin(browser, path), 'noemail-frank');
    const res = await browser.get(callback.href);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('did not send the claim &quot;email&quot;');
    expect(browser.cookies.has('bk_session')).toBe(false);
    expect(await counter(bk, 'bridgekeeper_logins_total', { result: 'failure' })).toBe(before + 1);
  });

  it('manages runtime providers in GraphQL (ADMIN): secret write-only, configuration read-only, authority must be trusted', async () => {
    const list = await bk.graphql(LIST, adminToken);
    expect(list.body.errors).toBeUndefined();
    const [fromConfig] = list.body.data!.ssoProviders as ProviderView[];
    expect(fromConfig).toMatchObject({
      name: 'corp',
      readOnly: true,
      hasClientSecret: true,
      callbackUrl: `${bk.url}/login/sso/corp/callback`,
      logoutRedirectUrl: `${bk.url}/login/sso/corp/logged-out`,
      claimMappings: { custom: [{ claim: 'tags', attribute: 'tags' }] },
    });
    expect(JSON.stringify(list.body)).not.toContain(SSO_SECRET);

    const untrusted = await bk.graphql(CREATE, adminToken, {
      input: { name: 'other', authority: 'https://login.other.example', clientId: 'x' },
    });
    expect(untrusted.body.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    expect(untrusted.body.errors![0].message).toMatch(/^authority: must be the exact iss/);

    const readOnly = await bk.graphql(UPDATE, adminToken, {
      id: fromConfig.id,
      input: { enabled: false },
    });
    expect(readOnly.body.errors![0].extensions!.code).toBe('FORBIDDEN');

    const notAdmin = await bk.graphql(LIST, await idp.login('alice'));
    expect(notAdmin.body.errors![0].extensions!.code).toBe('FORBIDDEN');

    const created = await bk.graphql(CREATE, adminToken, {
      input: {
        name: 'corp-public',
        displayName: 'Corp (public client)',
        authority: idp.issuer,
        clientId: 'bk-public',
        clientSecret: 'will be removed',
      },
    });
    expect(created.body.errors).toBeUndefined();
    const p = created.body.data!.createSsoProvider as ProviderView;
    expect(p).toMatchObject({ readOnly: false, hasClientSecret: true });
    expect(p.callbackUrl).toBe(`${bk.url}/login/sso/corp-public/callback`);
    const [stored] = await query<{ client_secret_enc: string }>(
      bk.databaseUrl,
      'SELECT client_secret_enc FROM sso_providers WHERE id = $1',
      [p.id],
    );
    expect(stored.client_secret_enc).toMatch(/^v1\./);
    const kept = await bk.graphql(UPDATE, adminToken, { id: p.id, input: { enabled: true } });
    expect((kept.body.data!.updateSsoProvider as ProviderView).hasClientSecret).toBe(true);
    const removed = await bk.graphql(UPDATE, adminToken, {
      id: p.id,
      input: { clientSecret: null },
    });
    expect((removed.body.data!.updateSsoProvider as ProviderView).hasClientSecret).toBe(false);
    const taken = await bk.graphql(CREATE, adminToken, {
      input: { name: 'corp', authority: idp.issuer, clientId: 'x' },
    });
    expect(taken.body.errors![0].extensions!.code).toBe('CONFLICT');

    // The runtime provider as a public client (PKCE alone): a second button, and it signs people in.
    await idp.registerClient({
      client_id: 'bk-public',
      redirect_uris: [p.callbackUrl],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    const browser = new TestBrowser(bk.url);
    const { path } = await authorizeSpa();
    const atIdp = await toIdpLogin(browser, path, 'Corp \\(public client\\)');
    const callback = await signInAtIdp(browser, atIdp, 'grace');
    expect(callback.pathname).toBe('/login/sso/corp-public/callback');
    const back = await browser.get(callback.href);
    expect(back.status).toBe(303);
    expect((await sessionOf(browser))!.actorId).toBe(
      (await bk.app.get(ActorsService).findByIdentity('corp', 'grace'))!.id,
    );

    const deleted = await bk.graphql(DELETE, adminToken, { id: p.id });
    expect(deleted.body.data!.deleteSsoProvider).toBe(true);
    expect((await new TestBrowser(bk.url).get('/login/sso/corp-public')).status).toBe(404);
  });

  describe('with local login switched off', () => {
    let only: RunningBridgekeeper;

    beforeAll(async () => {
      only = await startBridgekeeper({
        issuers: [idp.trustedIssuer('corp')],
        properties: {
          'bridgekeeper.auth.ui.local.enabled': 'false',
          'bridgekeeper.auth.ui.oidc.authority': idp.issuer,
          'bridgekeeper.auth.ui.oidc.clientid': 'bk-sso',
          'bridgekeeper.auth.ui.oidc.forward.params': 'login_hint,invite',
        },
      });
    });

    afterAll(async () => {
      await only?.close();
    });

    it('/login goes straight to the one provider with the allow-listed parameters, and refuses passwords', async () => {
      const browser = new TestBrowser(only.url);
      const res = await browser.get('/login?login_hint=zoe&invite=inv-1&prompt_x=no');
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/login/sso/oidc?login_hint=zoe&invite=inv-1');
      const start = await browser.get(res.headers.get('location')!);
      expect(start.status).toBe(303);
      const upstream = new URL(start.headers.get('location')!);
      expect(upstream.origin).toBe(idp.issuer);
      expect(upstream.searchParams.get('login_hint')).toBe('zoe');
      expect(upstream.searchParams.get('invite')).toBe('inv-1');
      expect(upstream.searchParams.get('code_challenge_method')).toBe('S256');
      expect(upstream.searchParams.get('nonce')).toBeTruthy();
      expect(upstream.searchParams.get('state')).toBeTruthy();
      expect(upstream.searchParams.has('prompt_x')).toBe(false);
      const posted = await browser.post('/login', { username: 'a', password: 'b' });
      expect(posted.status).toBe(403);
    });
  });
});
