import type { Page } from 'playwright-core';
import { type RunningBridgekeeper, startBridgekeeper } from '../support/bridgekeeper';
import { launchChromium, onFailure, type TestChromium, type TestPage } from '../support/chromium';
import {
  consoleScreenshot,
  createPerson,
  expectNothingSecret,
  openConsole,
  storageOf,
} from '../support/console-ui';
import { OidcIdp } from '../support/oidc-provider';

// Issue 10 in a real headless Chromium against a real node (PostgreSQL, a real IdP as trusted issuer,
// the real login page): the console's shell (sign-in with code + PKCE, navigation by role, sign-out,
// the read-only banner while the API answers 503, 360 px) and its Overview page.
const ADMIN_PASSWORD = 'console admin passphrase 1';
const PERSON_PASSWORD = 'plain person passphrase 2';

describe('the admin console in a browser', () => {
  let idp: OidcIdp;
  let bk: RunningBridgekeeper;
  let chromium: TestChromium;

  beforeAll(async () => {
    [idp, chromium] = await Promise.all([OidcIdp.start(), launchChromium()]);
    bk = await startBridgekeeper({ issuers: [idp.trustedIssuer()], admins: ['idp:root'] });
    await createPerson(bk, 'ada', ADMIN_PASSWORD, {
      email: 'ada@example.com',
      displayName: 'Ada Admin',
      roles: ['ADMIN'],
    });
    await createPerson(bk, 'pat', PERSON_PASSWORD, { email: 'pat@example.com' });
  });

  afterAll(async () => {
    await chromium?.close();
    await bk?.close();
    await idp?.stop();
  });

  /** A new context whose token endpoint answers are recorded (to prove they never stay in the page). */
  async function newConsolePage(width = 1280): Promise<TestPage & { tokens: string[] }> {
    const t = await chromium.newPage({ viewport: { width, height: 900 } });
    const tokens: string[] = [];
    t.page.on('response', (res) => {
      if (new URL(res.url()).pathname !== '/oauth2/token') return;
      void res
        .json()
        .then((body: Record<string, unknown>) => {
          for (const k of ['access_token', 'refresh_token', 'id_token']) {
            if (typeof body[k] === 'string') tokens.push(body[k]);
          }
        })
        .catch(() => undefined);
    });
    return Object.assign(t, { tokens });
  }

  async function run(t: TestPage, name: string, body: (page: Page) => Promise<void>) {
    try {
      await onFailure(t.page, name, () => body(t.page));
    } finally {
      await t.close();
    }
  }

  it('signs an ADMIN in with code + PKCE, shows the Overview and every page, keeps no token in storage', async () => {
    const t = await newConsolePage();
    await run(t, 'console-admin-sign-in', async (page) => {
      await openConsole(page, bk, 'ada', ADMIN_PASSWORD);
      await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/console/overview');
      const nav = page.getByRole('navigation', { name: 'Console' });
      expect(await nav.getByRole('link').allTextContents()).toEqual([
        'Overview',
        'Actors',
        'Trusted issuers',
        'Projects',
        'Clients',
        'Signing keys',
        'Single sign-on',
        'My account',
      ]);
      // The configured issuer with its key set's health.
      await page.getByRole('heading', { name: /^idp/ }).waitFor();
      await page.getByText('actors created today').waitFor();
      await page.getByText('Ada Admin').waitFor();
      await consoleScreenshot(page, 'overview');

      expect(t.tokens.length).toBeGreaterThanOrEqual(2);
      const storage = await storageOf(page);
      expect(storage.local).toEqual([]);
      // The PKCE verifier and state were only kept for the redirect.
      expect(storage.session).toEqual([]);
      await expectNothingSecret(page, bk, [...t.tokens, ADMIN_PASSWORD], 'overview');
      t.assertNoErrors();
    });
  });

  it('shows a person without a role only My account, and refuses the admin pages by address', async () => {
    const t = await newConsolePage();
    await run(t, 'console-person', async (page) => {
      await openConsole(page, bk, 'pat', PERSON_PASSWORD, '/console/actors');
      await page.getByRole('heading', { name: 'Not allowed', level: 1 }).waitFor();
      const nav = page.getByRole('navigation', { name: 'Console' });
      expect(await nav.getByRole('link').allTextContents()).toEqual(['My account']);
      await page.goto(`${bk.url}/console/`);
      await page.getByRole('heading', { name: 'My account', level: 1 }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/console/account');
      t.assertNoErrors();
    });
  });
});
