import { decodeJwt } from 'jose';
import { ActorsService } from 'src/actors/actors.service';
import type { RunningBridgekeeper } from '../support/bridgekeeper';
import { launchChromium, onFailure, screenshot, type TestChromium } from '../support/chromium';
import { actorIdOf } from '../support/gql-ops';
import { OidcIdp } from '../support/oidc-provider';
import { query } from '../support/postgres';
import { authorizeRequest, createSpa, redeemCode, startWithSsoProvider } from '../support/sso';

// Issue 9 §4 in a real headless Chromium: a person signs in to an application through Bridgekeeper's
// login page and an external OpenID provider's own login form (a real oidc-provider), with the
// application's login_hint forwarded to it and the claims mapped; they land as the same actor the
// provider's API tokens map to; signing out on Bridgekeeper signs them out at the provider too.
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
    bk = await startWithSsoProvider(idp);
    spaClientId = await createSpa(bk, await idp.login('root'), SPA_REDIRECT);
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
        const { path, verifier } = await authorizeRequest(spaClientId, SPA_REDIRECT, {
          login_hint: 'hana',
        });
        await page.goto(`${bk.url}${path}`);
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
        const tokens = await redeemCode(
          bk,
          spaClientId,
          SPA_REDIRECT,
          landed!.searchParams.get('code')!,
          verifier,
        );
        const idToken = decodeJwt(tokens.id_token);
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
