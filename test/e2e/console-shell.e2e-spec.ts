import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
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
import { JwksStub } from '../support/jwks-stub';
import { OidcIdp } from '../support/oidc-provider';
import { waitFor } from '../support/ports';
import { query, RestartablePostgres } from '../support/postgres';
import { ActorsService } from 'src/actors/actors.service';

// Issue 10 in a real headless Chromium against a real node (PostgreSQL, a real IdP as trusted issuer,
// the real login page): the console's shell (sign-in with code + PKCE, navigation by role, sign-out,
// the read-only banner while the API answers 503, 360 px) and its Overview page.
const ADMIN_PASSWORD = 'console admin passphrase 1';
const PERSON_PASSWORD = 'plain person passphrase 2';
const MIA_PASSWORD = 'mia first passphrase 3';
const MIA_NEW_PASSWORD = 'mia second passphrase 4';
jest.setTimeout(120_000);

describe('the admin console in a browser', () => {
  let idp: OidcIdp;
  let bk: RunningBridgekeeper;
  let chromium: TestChromium;
  let pg: RestartablePostgres;
  let patId: string;
  let stub: JwksStub;

  beforeAll(async () => {
    // Its own PostgreSQL, stopped by the read-only test.
    [idp, chromium, pg, stub] = await Promise.all([
      OidcIdp.start(),
      launchChromium(),
      RestartablePostgres.start(),
      JwksStub.start(),
    ]);
    bk = await startBridgekeeper({
      issuers: [idp.trustedIssuer()],
      admins: ['idp:root'],
      databaseUrl: pg.url,
      // Short-lived access tokens: the console renews them with its refresh token while open.
      properties: { 'bridgekeeper.oauth.access.token.ttl.seconds': '30' },
    });
    await createPerson(bk, 'ada', ADMIN_PASSWORD, {
      email: 'ada@example.com',
      displayName: 'Ada Admin',
      roles: ['ADMIN'],
    });
    patId = await createPerson(bk, 'pat', PERSON_PASSWORD, { email: 'pat@example.com' });
    await createPerson(bk, 'mia', MIA_PASSWORD, { displayName: 'Mia Member' });
  });

  afterAll(async () => {
    await chromium?.close();
    await bk?.close();
    await pg?.destroy();
    await idp?.stop();
    await stub?.stop();
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
      // Some traffic for the chart: accepted and refused tokens of the configured issuer.
      const good = await idp.login('someone');
      expect((await bk.get('/oauth2/userinfo', good)).status).toBe(200);
      const tampered = `${good.slice(0, -4)}AAAA`;
      expect((await bk.get('/oauth2/userinfo', tampered)).status).toBe(401);
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
      // Validations and refusals per issuer and reason, as a chart and a table.
      await page.getByRole('img', { name: /^idp: 1 tokens accepted and 1 refused/ }).waitFor();
      await page.getByRole('row', { name: /idp refused: / }).waitFor();
      await consoleScreenshot(page, 'overview');

      expect(t.tokens.length).toBeGreaterThanOrEqual(2);
      const storage = await storageOf(page);
      expect(storage.local).toEqual([]);
      // The PKCE verifier and state were only kept for the redirect.
      expect(storage.session).toEqual([]);
      await expectNothingSecret(page, bk, [...t.tokens, ADMIN_PASSWORD, good], 'overview');

      // First paint of the Overview with a signed-in browser session: reported, not asserted.
      const started = Date.now();
      await page.goto(`${bk.url}/console/overview`);
      await page.getByText('actors created today').waitFor();
      const overviewShown = Date.now() - started;
      const fcp = await page.evaluate<number | null>(
        "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null",
      );
      console.log(
        `console: Overview shown ${overviewShown} ms after opening /console/overview (sign-in round trip included); first contentful paint of its last document ${fcp === null ? 'n/a' : Math.round(fcp)} ms`,
      );
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
      await page.goto(`${bk.url}/console/no-such-page`);
      await page.getByRole('heading', { name: 'Page not found', level: 1 }).waitFor();
      // Keyboard only: "Sign out everywhere" asks first; Escape cancels, nothing happens.
      await page.goto(`${bk.url}/console/account`);
      const everywhere = page.getByRole('button', { name: 'Sign out everywhere' });
      await everywhere.focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Sign out everywhere?' });
      await dialog.waitFor();
      // Cancel has the focus: Enter by habit does not sign anyone out.
      expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('Cancel');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      await page.getByRole('cell', { name: /this browser/ }).waitFor();
      t.assertNoErrors();
    });
  });

  it('says so when a sign-in answer is not its own (a forged or replayed callback), without a token', async () => {
    const t = await newConsolePage();
    await run(t, 'console-bad-callback', async (page) => {
      await page.goto(`${bk.url}/console/callback?code=forged&state=forged`);
      await page.getByRole('heading', { name: 'Sign-in failed' }).waitFor();
      // The code left the address bar and history at once.
      expect(new URL(page.url()).search).toBe('');
      expect(t.tokens).toEqual([]);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByLabel('Username or email').waitFor();
      t.assertNoErrors();
    });
  });

  it('finds and pages through actors, disables and enables one after a confirmation naming it, never oneself', async () => {
    const t = await newConsolePage();
    await run(t, 'console-actors', async (page) => {
      await openConsole(page, bk, 'ada', ADMIN_PASSWORD, '/console/actors');
      await page.getByRole('heading', { name: 'Actors', level: 1 }).waitFor();
      await page.getByRole('cell', { name: /Ada Admin/ }).waitFor();
      await consoleScreenshot(page, 'actors');
      // Search (kept in the address).
      await page.getByLabel('Search').fill('pat@EXAMPLE');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByText('1 actor match').waitFor();
      expect(new URL(page.url()).search).toBe('?search=pat%40EXAMPLE');
      await page.getByRole('link', { name: 'pat', exact: true }).click();
      await page.getByRole('heading', { name: /^pat/, level: 1 }).waitFor();
      expect(new URL(page.url()).pathname).toBe(`/console/actors/${patId}`);

      await page.getByRole('button', { name: 'Disable' }).click();
      const dialog = page.getByRole('dialog', { name: 'Disable pat?' });
      await dialog.waitFor();
      // Cancel first: nothing changes.
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect((await bk.app.get(ActorsService).findById(patId))?.status).toBe('ACTIVE');
      await page.getByRole('button', { name: 'Disable' }).click();
      await consoleScreenshot(page, 'actor-disable-confirmation');
      await dialog.getByRole('button', { name: 'Disable' }).click();
      await page.getByText('pat is disabled.').waitFor();
      await page.getByRole('button', { name: 'Enable' }).waitFor();
      expect((await bk.app.get(ActorsService).findById(patId))?.status).toBe('DISABLED');
      await consoleScreenshot(page, 'actor');

      await page.getByRole('button', { name: 'Enable' }).click();
      await page
        .getByRole('dialog', { name: 'Enable pat?' })
        .getByRole('button', { name: 'Enable' })
        .click();
      await page.getByText('pat is enabled.').waitFor();
      expect((await bk.app.get(ActorsService).findById(patId))?.status).toBe('ACTIVE');

      // Roles: a wrong name is refused before sending; a right one is saved.
      await page.getByRole('textbox', { name: 'Roles' }).fill('auditor, bad-name');
      await page.getByRole('button', { name: 'Save roles' }).click();
      await page.getByText('"BAD-NAME" is not a role name').waitFor();
      await page.getByRole('textbox', { name: 'Roles' }).fill('auditor');
      await page.getByRole('button', { name: 'Save roles' }).click();
      await page.getByText('Roles saved.').waitFor();
      expect((await bk.app.get(ActorsService).findById(patId))?.roles).toEqual(['AUDITOR']);

      // Revoke sessions asks first, naming the actor.
      await page.getByRole('button', { name: 'Revoke sessions' }).click();
      await page
        .getByRole('dialog', { name: 'Revoke every session of pat?' })
        .getByRole('button', { name: 'Revoke sessions' })
        .click();
      await page.getByText('Every session of pat was ended').waitFor();

      // Cursor paging, with the issuer filter in the address: 30 actors of idp (JIT on first token).
      await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const token = await idp.login(`pager-${String(i).padStart(2, '0')}`);
          expect((await bk.get('/oauth2/userinfo', token)).status).toBe(200);
        }),
      );
      await page.goto(`${bk.url}/console/actors?issuer=idp&subject=pager-`);
      await page.getByText('30 actors match · page 1').waitFor();
      // The page's label changes with the cursor; the rows once the next page's answer is in.
      await waitFor(
        '26 table rows',
        async () => (await page.getByRole('row').count()) === 26,
        10_000,
      );
      const pager = page.getByRole('navigation', { name: 'Pages of actors' });
      expect(await pager.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);
      await pager.getByRole('button', { name: 'Next page' }).click();
      await page.getByText('30 actors match · page 2').waitFor();
      // The page's label changes with the cursor; the rows once the next page's answer is in.
      await waitFor(
        '6 table rows',
        async () => (await page.getByRole('row').count()) === 6,
        10_000,
      );
      expect(await pager.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
      await pager.getByRole('button', { name: 'Previous page' }).click();
      await page.getByText('30 actors match · page 1').waitFor();

      // Oneself: the actions are off.
      const self = (await bk.app
        .get(ActorsService)
        .findByIdentity('bridgekeeper', await accountSubject('ada')))!;
      await page.goto(`${bk.url}/console/actors/${self.id}`);
      await page.getByText('This is you').waitFor();
      expect(await page.getByRole('button', { name: 'Disable' }).isDisabled()).toBe(true);
      expect(await page.getByRole('button', { name: 'Revoke sessions' }).isDisabled()).toBe(true);
      t.assertNoErrors();
    });
  });

  /** The subject of a local account's actor (its account id). */
  async function accountSubject(username: string): Promise<string> {
    const [row] = await query<{ id: string }>(
      bk.databaseUrl,
      'SELECT id FROM local_accounts WHERE username = $1',
      [username],
    );
    return row.id;
  }

  it('changes the password on My account (the API’s field error first, then success, nothing kept) and signs another browser out', async () => {
    const t = await newConsolePage();
    await run(t, 'console-account', async (page) => {
      await openConsole(page, bk, 'mia', MIA_PASSWORD, '/console/account');
      await page.getByRole('heading', { name: 'My account', level: 1 }).waitFor();
      await page.getByRole('cell', { name: /this browser/ }).waitFor();
      await consoleScreenshot(page, 'my-account');
      // Checked before sending.
      await page.getByLabel('New password', { exact: true }).fill('short');
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByText('The password must be at least 8 characters long.').waitFor();
      // The API's error, next to its field.
      await page.getByLabel('Current password').fill('not my password at all');
      await page.getByLabel('New password', { exact: true }).fill(MIA_NEW_PASSWORD);
      await page.getByLabel('Repeat the new password').fill(MIA_NEW_PASSWORD);
      await page.getByRole('button', { name: 'Change password' }).click();
      const current = page.getByLabel('Current password');
      await page.getByText('this is not your current password').waitFor();
      expect(await current.getAttribute('aria-invalid')).toBe('true');
      await current.fill(MIA_PASSWORD);
      await page.getByLabel('New password', { exact: true }).fill(MIA_NEW_PASSWORD);
      await page.getByLabel('Repeat the new password').fill(MIA_NEW_PASSWORD);
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByText('Your password was changed.').waitFor();
      expect(await current.inputValue()).toBe('');
      await expectNothingSecret(
        page,
        bk,
        [...t.tokens, MIA_PASSWORD, MIA_NEW_PASSWORD, 'not my password at all'],
        'my account',
      );
      t.assertNoErrors(['the server responded with a status of 400']);

      // The new password signs in, in a second browser; the first one signs that browser out.
      const again = await newConsolePage();
      await run(again, 'console-account-new-password', async (p2) => {
        await openConsole(p2, bk, 'mia', MIA_NEW_PASSWORD, '/console/account');
        await p2.getByRole('heading', { name: 'My account', level: 1 }).waitFor();
        await page.reload();
        const rows = page.getByRole('row').filter({ has: page.getByRole('cell') });
        await rows.nth(1).waitFor();
        expect(await rows.count()).toBe(2);
        await rows
          .filter({ hasNot: page.getByText('this browser') })
          .getByRole('button', { name: 'Sign out' })
          .click();
        await page
          .getByRole('dialog', { name: /^Sign out / })
          .getByRole('button', { name: 'Sign it out' })
          .click();
        await page.getByRole('dialog').waitFor({ state: 'hidden' });
        await waitFor('the list without it', async () => (await rows.count()) === 1, 10_000, 100);
        // The other browser's console is signed out: its next request leads to the login page.
        await p2
          .getByRole('banner')
          .getByRole('link', { name: /Bridgekeeper/ })
          .click();
        await p2.getByLabel('Username or email').waitFor();
      });
    });
  });

  it('signs out through end_session and shows the signed-out page', async () => {
    const t = await newConsolePage();
    await run(t, 'console-sign-out', async (page) => {
      await openConsole(page, bk, 'pat', PERSON_PASSWORD, '/console/account');
      await page.getByRole('button', { name: 'Sign out', exact: true }).first().click();
      await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
      const cookies = await t.context.cookies(bk.url);
      expect(cookies.find((c) => c.name === 'bk_session')).toBeUndefined();
      // Signing in again asks for the password.
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByLabel('Username or email').waitFor();
      t.assertNoErrors();
    });
  });

  it('is usable 360 px wide: the menu opens the navigation, nothing overflows', async () => {
    const t = await newConsolePage(360);
    await run(t, 'console-360', async (page) => {
      await openConsole(page, bk, 'ada', ADMIN_PASSWORD, '/console/overview');
      // The navigation hides behind the menu at this width.
      expect(await page.getByRole('navigation', { name: 'Console' }).isVisible()).toBe(false);
      await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      expect(overflow).toBeLessThanOrEqual(0);
      await consoleScreenshot(page, 'overview-360');
      await page.getByRole('button', { name: 'Menu' }).click();
      await page
        .getByRole('navigation', { name: 'Console' })
        .getByRole('link', { name: 'Actors' })
        .click();
      await page.getByRole('heading', { name: 'Actors', level: 1 }).waitFor();
      await page.getByRole('cell', { name: /Ada Admin/ }).waitFor();
      expect(
        await page.evaluate<number>(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        ),
      ).toBeLessThanOrEqual(0);
      // After a navigation the focus is on the page's content (screen readers read it next).
      expect(await page.evaluate<string>('document.activeElement.id')).toBe('main');
      // Keyboard: on a fresh load the first Tab reaches the skip link, visibly focused.
      await page.reload();
      await page.getByRole('cell', { name: /Ada Admin/ }).waitFor();
      await page.keyboard.press('Tab');
      expect(await page.evaluate<string>('document.activeElement.textContent')).toBe(
        'Skip to content',
      );
      expect(
        await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle'),
      ).toBe('solid');
      t.assertNoErrors();
    });
  });

  it('trusts a new issuer with the API’s field errors, accepts its token in “test a token”, edits and deletes it', async () => {
    const t = await newConsolePage();
    await run(t, 'console-issuers', async (page) => {
      await openConsole(page, bk, 'ada', ADMIN_PASSWORD, '/console/issuers');
      await page.getByRole('heading', { name: 'Trusted issuers', level: 1 }).waitFor();
      const idpRow = page.getByRole('row', { name: /idp/ });
      await idpRow.getByText('configuration · read-only').waitFor();
      await consoleScreenshot(page, 'trusted-issuers');

      await page.getByRole('link', { name: 'Trust an issuer' }).click();
      await page.getByRole('heading', { name: 'Trust an issuer', level: 1 }).waitFor();
      // Checked before sending.
      await page.getByRole('button', { name: 'Trust this issuer' }).click();
      await page.getByText('Lower-case letters and digits only').waitFor();
      await page.getByText('The exact iss value of its tokens is required.').waitFor();
      // The API's error, next to its field (the name is taken by the configuration issuer).
      await page.getByLabel('Name').fill('idp');
      await page.getByLabel('Issuer (iss)').fill(stub.issuer);
      await page.getByLabel('JWKS URL').fill(stub.jwksUrl);
      await page.getByLabel('Audiences').fill('corp-api');
      await page.getByRole('button', { name: 'Trust this issuer' }).click();
      await page.getByText('a trusted issuer named "idp" already exists').waitFor();
      expect(await page.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
      await consoleScreenshot(page, 'trusted-issuer-form');
      await page.getByLabel('Name').fill('corp');
      await page.getByRole('button', { name: 'Trust this issuer' }).click();
      await page.getByText('corp is trusted on every node').waitFor();
      expect(new URL(page.url()).pathname).toBe('/console/issuers/corp');

      // Its token, tested: accepted, step by step; the box is emptied; the token is nowhere.
      const token = await stub.token('corp-api', { sub: 'alice' });
      await page.getByRole('link', { name: 'All trusted issuers' }).click();
      await page.getByLabel('Token').fill(token);
      await page.getByRole('button', { name: 'Test the token' }).click();
      const verdict = page.getByRole('status').filter({ hasText: /Accepted|Refused/ });
      await verdict.waitFor();
      expect(await verdict.locator('.verdict-line').textContent()).toMatch(
        /^Accepted · issuer corp · subject alice/,
      );
      expect(await verdict.getByRole('listitem').count()).toBeGreaterThanOrEqual(5);
      expect(await page.getByLabel('Token').inputValue()).toBe('');
      await consoleScreenshot(page, 'trusted-issuers-test-token');
      await expectNothingSecret(page, bk, [...t.tokens, token], 'test a token');
      expect(await storageOf(page)).toEqual({ local: [], session: [] });

      // A token for another audience is refused, naming the failed step.
      const wrong = await stub.token('someone-else', { sub: 'alice' });
      await page.getByLabel('Token').fill(wrong);
      await page.getByRole('button', { name: 'Test the token' }).click();
      await page.locator('.verdict-line', { hasText: /^Refused/ }).waitFor();
      expect(await page.locator('.step-fail').count()).toBeGreaterThanOrEqual(1);

      // Edit: accept that audience too; the same token is accepted now.
      await page.getByRole('link', { name: 'corp', exact: true }).click();
      await page.getByLabel('Audiences').fill('corp-api, someone-else');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Saved: every node uses the new settings now.').waitFor();
      await page.getByRole('link', { name: 'All trusted issuers' }).click();
      await page.getByLabel('Token').fill(wrong);
      await page.getByRole('button', { name: 'Test the token' }).click();
      await page.locator('.verdict-line', { hasText: /^Accepted · issuer corp/ }).waitFor();

      // Delete, after a confirmation naming it.
      await page.getByRole('link', { name: 'corp', exact: true }).click();
      await page.getByRole('button', { name: 'Delete' }).click();
      await page
        .getByRole('dialog', { name: 'Stop trusting corp?' })
        .getByRole('button', { name: 'Delete corp' })
        .click();
      await page.getByRole('heading', { name: 'Trusted issuers', level: 1 }).waitFor();
      await page.getByRole('row', { name: /idp/ }).waitFor();
      expect(await page.getByRole('link', { name: 'corp', exact: true }).count()).toBe(0);
      t.assertNoErrors(['the server responded with a status of 409']);
    });
  });

  it('keeps the page shown with a read-only banner while the API answers 503, and retries', async () => {
    const t = await newConsolePage();
    await run(t, 'console-read-only', async (page) => {
      await openConsole(page, bk, 'ada', ADMIN_PASSWORD, '/console/overview');
      await page.getByText('actors created today').waitFor();
      await pg.down();
      try {
        await page.getByRole('button', { name: 'Refresh' }).click();
        const banner = page.getByRole('alert').filter({ hasText: 'Read-only' });
        await banner.waitFor();
        // What was loaded stays on screen, with the banner as the only message.
        expect(await page.getByText('actors created today').isVisible()).toBe(true);
        expect(await page.getByRole('alert').count()).toBe(1);
        await consoleScreenshot(page, 'read-only-banner');
      } finally {
        await pg.up();
      }
      await waitFor(
        'database recovery',
        async () => (await bk.get('/health/ready')).status === 200,
        30_000,
        200,
      );
      await page
        .getByRole('alert')
        .filter({ hasText: 'Read-only' })
        .getByRole('button', { name: 'Retry' })
        .click();
      await page.getByRole('alert').filter({ hasText: 'Read-only' }).waitFor({ state: 'hidden' });
      t.assertNoErrors(['503']);
    });
  });

  it('renews its access token silently with the refresh token and keeps working', async () => {
    const t = await newConsolePage();
    await run(t, 'console-renewal', async (page) => {
      await openConsole(page, bk, 'ada', ADMIN_PASSWORD, '/console/overview');
      await page.getByText('actors created today').waitFor();
      const navigations: string[] = [];
      page.on('framenavigated', (f) => {
        if (f === page.mainFrame()) navigations.push(new URL(f.url()).pathname);
      });
      // The renewal is due at 80 % of the 30 s lifetime.
      const renewal = await page.waitForResponse(
        (res) =>
          new URL(res.url()).pathname === '/oauth2/token' &&
          (res.request().postData() ?? '').includes('grant_type=refresh_token'),
        { timeout: 60_000 },
      );
      expect(renewal.status()).toBe(200);
      const renewed = (await renewal.json()) as { access_token: string };
      const used = page.waitForRequest(
        (req) =>
          new URL(req.url()).pathname === '/graphql' &&
          req.headers().authorization === `Bearer ${renewed.access_token}`,
      );
      await page.getByRole('button', { name: 'Refresh' }).click();
      await used;
      await page.getByText('actors created today').waitFor();
      // No page load happened: the renewal was silent.
      expect(navigations).toEqual([]);
      await expectNothingSecret(page, bk, [renewed.access_token, ...t.tokens], 'renewal');
      t.assertNoErrors();
    });
  });

  it('keeps the initial JavaScript under 200 KB gzipped', () => {
    const dist = join(__dirname, '..', '..', 'console', 'dist');
    const html = readFileSync(join(dist, 'index.html'), 'utf8');
    // The entry script and every module it preloads: what the first load downloads.
    const scripts = [...html.matchAll(/(?:src|href)="\/console\/(assets\/[^"]+\.js)"/g)].map(
      (m) => m[1],
    );
    expect(scripts.length).toBeGreaterThanOrEqual(1);
    const gzipped = scripts.reduce(
      (n, file) => n + gzipSync(readFileSync(join(dist, file))).length,
      0,
    );
    console.log(
      `console: initial JavaScript ${(gzipped / 1024).toFixed(1)} KB gzipped (${scripts.join(', ')})`,
    );
    expect(gzipped).toBeLessThan(200 * 1024);
    // No inline script or style: the CSP forbids them.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style=/);
  });
});
