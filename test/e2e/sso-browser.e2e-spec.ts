import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { ActorsService } from 'src/actors/actors.service';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { launchChromium, onFailure, screenshot, type TestChromium } from '../support/chromium';
import { actorIdOf } from '../support/gql-ops';
import { OidcIdp } from '../support/oidc-provider';
import { query } from '../support/postgres';

// Issue 9 §4 in a real headless Chromium: a person signs in to an application through Bridgekeeper's
// login page and an external OpenID provider's own login form (a real oidc-provider), with the
// application's login_hint forwarded to it and the claims mapped; they land as the same actor the
// provider's API tokens map to; signing out on Bridgekeeper signs them out at the provider too.
const SSO_SECRET = 'sso-client-secret-for-browser-tests';
const SPA_REDIRECT = 'http://127.0.0.1:53124/cb';
/** The provider's default pages import a web font from the internet, which this network cannot reach. */
const IDP_FONT = 'https://fonts.googleapis.com/**';

describe('SSO sign-in in a real browser', () => {
  let idp: OidcIdp;
  let bk: RunningBridgekeeper;
  let chromium: TestChromium;
  let spaClientId: string;

  beforeAll(async () => {
    [idp, chromium] = await Promise.all([OidcIdp.start(), launchChromium()]);
    bk = await startBridgekeeper({
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
    const created = await bk.graphql(
      `mutation($input: CreateClientInput!) { createClient(input: $input) { client { clientId } } }`,
      await idp.login('root'),
      {
        input: {
          name: 'spa',
          grantTypes: ['AUTHORIZATION_CODE'],
          scopes: ['openid', 'profile', 'email'],
          tokenEndpointAuthMethod: 'NONE',
          redirectUris: [SPA_REDIRECT],
        },
      },
    );
    expect(created.body.errors).toBeUndefined();
    spaClientId = (created.body.data!.createClient as { client: { clientId: string } }).client
      .clientId;
  });

  afterAll(async () => {
    await chromium?.close();
    await bk?.close();
    await idp?.stop();
  });

  it('signs in through the provider’s form, lands as the API-token actor, and signs out at the provider too', async () => {
    const t = await chromium.newPage();
    const { page } = t;
    try {
      await onFailure(page, 'sso-browser', async () => {
        // The application's redirect URI: record where the browser is sent, answer a tiny page.
        let landed: URL | undefined;
        await page.route(IDP_FONT, (route) =>
          route.fulfill({ status: 200, contentType: 'text/css', body: '' }),
        );
        await page.route(`${SPA_REDIRECT}**`, async (route) => {
          landed = new URL(route.request().url());
          await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>app</p>' });
        });
        const verifier = oidc.randomPKCECodeVerifier();
        const authorize = new URLSearchParams({
          client_id: spaClientId,
          response_type: 'code',
          redirect_uri: SPA_REDIRECT,
          scope: 'openid profile email',
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state: 'app-state',
          nonce: 'app-nonce',
          login_hint: 'hana',
        });
        await page.goto(`${bk.url}/oauth2/authorize?${authorize.toString()}`);
        // Bridgekeeper's login page: the password form and one button for the provider.
        const button = page.getByRole('link', { name: 'Continue with Corp Login' });
        await button.waitFor();
        await screenshot(page, 'sso-login-page');
        await button.click();
        // The provider's own login form, prefilled with the application's login_hint.
        const login = page.locator('input[name="login"]');
        await login.waitFor();
        expect(new URL(page.url()).origin).toBe(idp.issuer);
        expect(await login.inputValue()).toBe('hana');
        await page.locator('input[name="password"]').fill('any password');
        await page.getByRole('button', { name: 'Sign-in' }).click();
        await page.getByRole('button', { name: 'Continue' }).click();
        // Back through Bridgekeeper's callback and authorization endpoint to the application.
        await page.waitForURL(`${SPA_REDIRECT}**`);
        expect(landed!.searchParams.get('state')).toBe('app-state');
        const res = await fetch(`${bk.url}/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            client_id: spaClientId,
            code: landed!.searchParams.get('code')!,
            redirect_uri: SPA_REDIRECT,
            code_verifier: verifier,
          }).toString(),
        });
        expect(res.status).toBe(200);
        const idToken = decodeJwt(((await res.json()) as { id_token: string }).id_token);
        const actor = (await bk.app.get(ActorsService).findByIdentity('corp', 'hana'))!;
        expect(idToken.sub).toBe(actor.id);
        expect(actor).toMatchObject({
          email: 'hana@example.test',
          givenName: 'Given hana',
          familyName: 'Family hana',
        });
        expect(await actorIdOf(bk, await idp.login('hana'))).toBe(actor.id);
        const [attrs] = await query<{ attributes: unknown }>(
          bk.databaseUrl,
          'SELECT attributes FROM actor_attributes WHERE actor_id = $1',
          [actor.id],
        );
        expect(attrs.attributes).toEqual({ tags: ['blue', 'green'] });

        // Sign out on Bridgekeeper: the browser continues to the provider's sign-out and back.
        await page.goto(`${bk.url}/logout`);
        await page.getByText('You are signed in as').waitFor();
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByRole('button', { name: 'Yes, sign me out' }).click();
        await page.getByText('You are signed out.').waitFor();
        expect(new URL(page.url()).pathname).toBe('/login/sso/corp/logged-out');
        const cookies = await t.context.cookies(bk.url);
        expect(cookies.find((c) => c.name === 'bk_session')).toBeUndefined();
        // Signed out at the provider too: signing in again shows its login form.
        await page.goto(`${bk.url}/login/sso/corp`);
        await page.locator('input[name="login"]').waitFor();
        t.assertNoErrors();
      });
    } finally {
      await t.close();
    }
  });
});
