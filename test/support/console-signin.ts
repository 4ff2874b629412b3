import * as oidc from 'openid-client';
import type { RunningBridgekeeper } from './bridgekeeper';
import { TestBrowser } from './browser';

export const CONSOLE_CLIENT_ID = 'bridgekeeper-console';

export interface ConsoleSignIn {
  browser: TestBrowser;
  config: oidc.Configuration;
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
}

/**
 * Signs a person in to the admin console's built-in client as the console does: openid-client builds
 * the code + PKCE request, a fetch browser goes through the real login page, openid-client redeems the
 * code (validating the ID token). Pass a browser to sign in again in the same browser.
 */
export async function consoleSignIn(
  node: RunningBridgekeeper,
  username: string,
  password: string,
  browser: TestBrowser = new TestBrowser(node.config.publicUrl),
  userAgent?: string,
): Promise<ConsoleSignIn> {
  // The deployment's public URL (a peer node shares its first node's): the issuer discovery must name.
  const base = node.config.publicUrl;
  const config = await oidc.discovery(new URL(base), CONSOLE_CLIENT_ID, undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${base}/console/callback`,
    scope: 'openid profile email offline_access',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const headers: Record<string, string> = userAgent ? { 'user-agent': userAgent } : {};
  const first = await browser.get(url.pathname + url.search, headers);
  let location = first.headers.get('location')!;
  if (first.status === 303 && location.startsWith('/login')) {
    const posted = await browser.submit(location, { username, password }, headers);
    if (posted.status !== 303) throw new Error(`login failed with ${posted.status}`);
    const back = await browser.get(posted.headers.get('location')!, headers);
    location = back.headers.get('location')!;
  }
  const callback = new URL(location);
  if (`${callback.origin}${callback.pathname}` !== `${base}/console/callback`) {
    throw new Error(`unexpected redirect to ${callback.origin}${callback.pathname}`);
  }
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  return { browser, config, tokens };
}
