import * as oidc from 'openid-client';
import { startBridgekeeper, type RunningBridgekeeper } from './bridgekeeper';
import { parseForm, type TestBrowser } from './browser';
import type { OidcIdp } from './oidc-provider';

export const SSO_SECRET = 'sso-client-secret-for-tests-only';

/**
 * A Bridgekeeper whose configuration has the test IdP as trusted issuer `corp` (admin `corp:root`) and
 * as SSO provider `corp` ("Corp Login", a confidential client, tags as attributes), registered at the
 * IdP once Bridgekeeper's URLs are known (what an operator does by hand).
 */
export async function startWithSsoProvider(idp: OidcIdp): Promise<RunningBridgekeeper> {
  const bk = await startBridgekeeper({
    issuers: [idp.trustedIssuer('corp')],
    admins: ['corp:root'],
    properties: {
      'bridgekeeper.auth.ui.oidc.authority': idp.issuer,
      'bridgekeeper.auth.ui.oidc.clientid': 'bk-sso',
      'bridgekeeper.auth.ui.oidc.clientsecret': SSO_SECRET,
      'bridgekeeper.auth.ui.oidc.name': 'corp',
      'bridgekeeper.auth.ui.oidc.display.name': 'Corp Login',
      'bridgekeeper.auth.ui.oidc.claims.custom': 'tags=tags',
    },
  });
  await idp.registerClient({
    client_id: 'bk-sso',
    client_secret: SSO_SECRET,
    redirect_uris: [`${bk.url}/login/sso/corp/callback`],
    post_logout_redirect_uris: [`${bk.url}/login/sso/corp/logged-out`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  });
  return bk;
}

/** A public application client (code + PKCE) of Bridgekeeper; its client id. */
export async function createSpa(
  bk: RunningBridgekeeper,
  adminToken: string,
  redirectUri: string,
  postLogoutRedirectUris: string[] = [],
): Promise<string> {
  const created = await bk.graphql(
    `mutation($input: CreateClientInput!) { createClient(input: $input) { client { clientId } } }`,
    adminToken,
    {
      input: {
        name: 'spa',
        grantTypes: ['AUTHORIZATION_CODE'],
        scopes: ['openid', 'profile', 'email'],
        tokenEndpointAuthMethod: 'NONE',
        redirectUris: [redirectUri],
        postLogoutRedirectUris,
      },
    },
  );
  if (created.body.errors) throw new Error(created.body.errors[0].message);
  return (created.body.data!.createClient as { client: { clientId: string } }).client.clientId;
}

/** An authorization request of such a client (PKCE S256); its path and verifier. */
export async function authorizeRequest(
  clientId: string,
  redirectUri: string,
  extra: Record<string, string> = {},
): Promise<{ path: string; verifier: string }> {
  const verifier = oidc.randomPKCECodeVerifier();
  const q = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'app-state',
    nonce: 'app-nonce',
    ...extra,
  });
  return { path: `/oauth2/authorize?${q.toString()}`, verifier };
}

/** Redeems an authorization code of such a client; its token response. */
export async function redeemCode(
  bk: RunningBridgekeeper,
  clientId: string,
  redirectUri: string,
  code: string,
  verifier: string,
): Promise<Record<string, string>> {
  const res = await fetch(`${bk.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }).toString(),
  });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}`);
  return (await res.json()) as Record<string, string>;
}

/** Where a browser stopped: the last response and its URL. */
export interface Stop {
  res: Response;
  url: URL;
}

/**
 * Follows redirects (each hop through the test browser's one cookie jar, across Bridgekeeper and the IdP,
 * as a real browser shares cookies between ports of one host) until a non-redirect answer, or until a
 * redirect leaves for a URL `stopAt` matches (that redirect is returned, not followed).
 */
export async function follow(
  browser: TestBrowser,
  start: string | URL,
  stopAt: (next: URL) => boolean = () => false,
): Promise<Stop> {
  let url = new URL(start, browser.baseUrl);
  for (let hop = 0; hop < 20; hop++) {
    const res = await browser.get(url.href);
    if (res.status < 300 || res.status >= 400) return { res, url };
    const next = new URL(res.headers.get('location')!, url);
    if (stopAt(next)) return { res, url };
    url = next;
  }
  throw new Error('too many redirects');
}

/**
 * At the test IdP (oidc-provider's own interaction pages): signs in as `login` on its login form (which
 * must be prefilled with `expectHint` when given), consents, and returns the redirect back to
 * Bridgekeeper's callback (not followed).
 */
export async function signInAtIdp(
  browser: TestBrowser,
  loginPage: Stop,
  login: string,
  expectHint?: string,
): Promise<URL> {
  let page = loginPage;
  for (let step = 0; step < 4; step++) {
    const text = await page.res.text();
    if (page.res.status !== 200)
      throw new Error(`IdP answered ${page.res.status}: ${text.slice(0, 300)}`);
    const form = parseForm(text);
    if (!form) throw new Error(`no form at the IdP: ${text.slice(0, 300)}`);
    const fields: Record<string, string> = { ...form.hidden };
    if (form.hidden.prompt === 'login') {
      if (expectHint !== undefined && !text.includes(`value="${expectHint}"`))
        throw new Error('the IdP login form is not prefilled with the login_hint');
      fields.login = login;
      fields.password = 'any password';
    }
    const action = new URL(form.action, page.url);
    const posted = await browser.post(action.href, fields);
    if (posted.status < 300 || posted.status >= 400)
      throw new Error(`IdP form answered ${posted.status}`);
    const bridgekeeper = new URL(browser.baseUrl).origin;
    const next = new URL(posted.headers.get('location')!, action);
    if (next.origin === bridgekeeper) return next;
    // Follow the IdP's own redirects; stop at the first one back to Bridgekeeper.
    const stop = await follow(browser, next, (u) => u.origin === bridgekeeper);
    if (stop.res.status >= 300 && stop.res.status < 400)
      return new URL(stop.res.headers.get('location')!, stop.url);
    page = stop;
  }
  throw new Error('the IdP did not send the browser back');
}
