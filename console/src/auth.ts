import * as oauth from 'oauth4webapi';

/**
 * The console signs in as Bridgekeeper's built-in public client `bridgekeeper-console`: authorization
 * code + PKCE (S256). Tokens live in this module's memory only, never in localStorage or
 * sessionStorage; only the PKCE verifier, state and nonce wait in sessionStorage across the redirect to
 * the login page, and are removed as soon as the callback reads them. The access token is renewed with
 * the refresh token (offline_access) before it expires; when that fails, the browser goes through the
 * authorization endpoint again (the login page shows only when the browser session is gone). Sign-out
 * goes through end_session with the ID token as hint.
 */
export const CLIENT_ID = 'bridgekeeper-console';
const SCOPE = 'openid profile email offline_access';
const PENDING_KEY = 'bk.console.signin';
const SIGNED_OUT_KEY = 'bk.console.signedOut';
const BASE = '/console/';

const client: oauth.Client = { client_id: CLIENT_ID };
const clientAuth = oauth.None();
/** Loopback tests and local installations run over http; everywhere else it is https. */
const httpOptions = { [oauth.allowInsecureRequests]: location.protocol === 'http:' };

interface Tokens {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  expiresAt: number;
}

interface Pending {
  verifier: string;
  state: string;
  nonce: string;
  returnTo: string;
}

let server: oauth.AuthorizationServer | undefined;
let tokens: Tokens | undefined;
let renewTimer: ReturnType<typeof setTimeout> | undefined;
let renewing: Promise<boolean> | undefined;

export const redirectUri = (): string => `${location.origin}${BASE}callback`;
const postLogoutUri = (): string => `${location.origin}${BASE}`;

async function authorizationServer(): Promise<oauth.AuthorizationServer> {
  if (!server) {
    const issuer = new URL(location.origin);
    const response = await oauth.discoveryRequest(issuer, {
      algorithm: 'oidc',
      ...httpOptions,
    });
    server = await oauth.processDiscoveryResponse(issuer, response);
  }
  return server;
}

/** The access token for the API, or undefined before sign-in. Never stored anywhere else. */
export function accessToken(): string | undefined {
  return tokens?.accessToken;
}

/** Sends the browser to the login page (or straight back, when its browser session is alive). */
export async function signIn(returnTo = location.pathname + location.search): Promise<never> {
  const as = await authorizationServer();
  const verifier = oauth.generateRandomCodeVerifier();
  const pending: Pending = {
    verifier,
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    returnTo: safeReturn(returnTo),
  };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  sessionStorage.removeItem(SIGNED_OUT_KEY);
  const url = new URL(as.authorization_endpoint!);
  url.searchParams.set('client_id', CLIENT_ID);
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', SCOPE);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', pending.state);
  url.searchParams.set('nonce', pending.nonce);
  location.assign(url.href);
  return new Promise<never>(() => undefined);
}

/** Only paths of the console itself: never an open redirect. */
function safeReturn(path: string): string {
  return path.startsWith(BASE) && !path.startsWith(`${BASE}callback`) && !path.includes('//')
    ? path
    : BASE;
}

export class SignInError extends Error {}

/**
 * On `/console/callback`: redeems the code with the verifier kept for the redirect (then forgotten)
 * and returns the console path to show. Throws SignInError with a readable message when it fails.
 */
export async function completeSignIn(): Promise<string> {
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const current = new URL(location.href);
  // The code and state never stay in the address bar or history.
  history.replaceState(null, '', BASE);
  if (!raw) throw new SignInError('This sign-in was not started here, or was already used.');
  const pending = JSON.parse(raw) as Pending;
  const as = await authorizationServer();
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(as, client, current, pending.state);
  } catch (err) {
    const description =
      err instanceof oauth.AuthorizationResponseError
        ? (err.error_description ?? err.error)
        : 'the answer of the login page was not valid';
    throw new SignInError(`Sign-in failed: ${description}.`);
  }
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    clientAuth,
    params,
    redirectUri(),
    pending.verifier,
    httpOptions,
  );
  try {
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: pending.nonce,
      requireIdToken: true,
    });
    keep(result);
  } catch {
    throw new SignInError('Sign-in failed: the code could not be redeemed. Please sign in again.');
  }
  return pending.returnTo;
}

function keep(result: oauth.TokenEndpointResponse): void {
  tokens = {
    accessToken: result.access_token,
    refreshToken: result.refresh_token ?? tokens?.refreshToken,
    idToken: result.id_token ?? tokens?.idToken,
    expiresAt: Date.now() + (result.expires_in ?? 300) * 1000,
  };
  if (renewTimer) clearTimeout(renewTimer);
  // Renew at 80 % of the lifetime (at least 10 s from now).
  const delay = Math.max(10_000, (tokens.expiresAt - Date.now()) * 0.8);
  renewTimer = setTimeout(() => void renew(), delay);
}

/**
 * Renews the access token with the refresh token (once at a time). False when there is none or the
 * server refused it: the caller signs in again.
 */
export function renew(): Promise<boolean> {
  renewing ??= (async () => {
    try {
      const refresh = tokens?.refreshToken;
      if (!refresh) return false;
      const as = await authorizationServer();
      const response = await oauth.refreshTokenGrantRequest(
        as,
        client,
        clientAuth,
        refresh,
        httpOptions,
      );
      keep(await oauth.processRefreshTokenResponse(as, client, response));
      return true;
    } catch {
      return false;
    } finally {
      renewing = undefined;
    }
  })();
  return renewing;
}

/** Forgets the tokens (after signOutEverywhere: they are revoked anyway). */
export function forget(): void {
  tokens = undefined;
  if (renewTimer) clearTimeout(renewTimer);
}

/** Whether the person just signed out (the post-logout page shows instead of a new sign-in). */
export function justSignedOut(): boolean {
  return sessionStorage.getItem(SIGNED_OUT_KEY) !== null;
}

/** Ends the browser session at Bridgekeeper (end_session) and comes back to a signed-out page. */
export async function signOut(): Promise<never> {
  const as = await authorizationServer();
  const idToken = tokens?.idToken;
  forget();
  sessionStorage.setItem(SIGNED_OUT_KEY, '1');
  const url = new URL(as.end_session_endpoint ?? `${location.origin}/oauth2/end_session`);
  url.searchParams.set('client_id', CLIENT_ID);
  url.searchParams.set('post_logout_redirect_uri', postLogoutUri());
  if (idToken) url.searchParams.set('id_token_hint', idToken);
  location.assign(url.href);
  return new Promise<never>(() => undefined);
}
