import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { type RunningBridgekeeper, startBridgekeeper } from '../support/bridgekeeper';
import { launchChromium, type TestChromium } from '../support/chromium';
import {
  consoleScreenshot,
  createPerson,
  expectNothingSecret,
  newRecordingPage,
  openConsole,
  runInPage,
  storageOf,
} from '../support/console-ui';
import { createProject } from '../support/gql-ops';
import { OidcIdp } from '../support/oidc-provider';
import { SmtpTestServer } from '../support/smtp';

// Issue 10's Projects, Clients, Signing keys and Single sign-on pages in a real headless Chromium against
// a real node (PostgreSQL, a real oidc-provider as trusted issuer `corp`, a real SMTP server): each
// page's main action, a project admin who signs in through the SSO provider configured in the console
// and sees only their project, and no secret, token or password left in the page, its storage or the
// server log once shown.
const ADMIN_PASSWORD = 'pages admin passphrase 1';
const SSO_SECRET = 'console-configured-sso-secret-42';
const IDP_FONT = 'https://fonts.googleapis.com/**';
jest.setTimeout(180_000);

describe('the console pages in a browser', () => {
  let idp: OidcIdp;
  let smtp: SmtpTestServer;
  let bk: RunningBridgekeeper;
  let chromium: TestChromium;
  let adminToken: string;
  const shownSecrets: string[] = [];

  beforeAll(async () => {
    [idp, chromium, smtp] = await Promise.all([
      OidcIdp.start(),
      launchChromium(),
      SmtpTestServer.start(),
    ]);
    bk = await startBridgekeeper({
      issuers: [idp.trustedIssuer('corp')],
      admins: ['corp:root'],
      properties: { 'bridgekeeper.smtp.url': smtp.url },
    });
    await createPerson(bk, 'ada', ADMIN_PASSWORD, {
      email: 'ada@example.com',
      displayName: 'Ada Admin',
      roles: ['ADMIN'],
    });
    adminToken = await idp.login('root');
  });

  afterAll(async () => {
    await chromium?.close();
    await bk?.close();
    await idp?.stop();
    await smtp?.stop();
  });

  const newConsolePage = (width?: number) => newRecordingPage(chromium, width);
  const run = runInPage;

  /** Nothing secret in the DOM, the values of its inputs, the storages or the server log. */
  async function expectClean(page: Page, secrets: string[], label: string): Promise<void> {
    await expectNothingSecret(page, bk, secrets, label);
    const values = await page.evaluate<string[]>(
      `Array.from(document.querySelectorAll('input, textarea')).map((e) => e.value)`,
    );
    for (const [i, s] of secrets.entries()) {
      if (s && values.some((v) => v.includes(s)))
        throw new Error(`${label}: secret #${i} is in a form field`);
    }
    expect((await storageOf(page)).local).toEqual([]);
  }

  function heading(page: Page, name: string | RegExp) {
    return page.getByRole('heading', { name, level: 1 });
  }

  it('creates a project, invites a member with the email status shown, deactivates and removes after confirmations naming them', async () => {
    const t = await newConsolePage();
    await run(t, 'console-projects', async (page) => {
      await openConsole(page, bk, 'ada', ADMIN_PASSWORD, '/console/projects');
      await heading(page, 'Projects').waitFor();
      await page.getByText('No project yet').waitFor();
      // The form's own check first.
      await page.getByRole('button', { name: 'Create project' }).click();
      await page.getByText('A name of 1 to 200 characters is required.').waitFor();
      await page.getByLabel('Project name', { exact: true }).fill('Clinic Alpha');
      await page.getByRole('button', { name: 'Create project' }).click();
      await heading(page, 'Clinic Alpha').waitFor();
      await page.getByText('No member yet').waitFor();

      // Invite: checked here first (an email that is not one), then sent with an email.
      await page.getByLabel('First name', { exact: true }).fill('Ivy');
      await page.getByLabel('Last name', { exact: true }).fill('Invitee');
      await page.getByLabel('Email', { exact: true }).fill('ivy-at-example.com');
      await page.getByRole('button', { name: 'Invite' }).click();
      await page.getByText('Must be an email address.').waitFor();
      await page.getByLabel('Email', { exact: true }).fill('ivy@example.com');
      await page.getByRole('button', { name: 'Invite' }).click();
      const status = page.getByTestId('invite-email-status');
      await status.waitFor();
      expect(await status.textContent()).toBe('Invite email: sent to ivy@example.com.');
      expect(await smtp.textSentTo('ivy@example.com')).toContain('Clinic Alpha');
      const row = page.getByRole('row', { name: /Ivy Invitee/ });
      await row.getByText('active', { exact: true }).waitFor();

      // The same person again: the API's answer (409) shows on the form.
      await page.getByLabel('First name', { exact: true }).fill('Ivy');
      await page.getByLabel('Last name', { exact: true }).fill('Again');
      await page.getByLabel('Email', { exact: true }).fill('ivy@example.com');
      await page.getByRole('button', { name: 'Invite' }).click();
      await page
        .getByRole('alert')
        .filter({ hasText: /already|exists|duplicate/i })
        .waitFor();

      // Without asking for an email: said so.
      await page.getByLabel('First name', { exact: true }).fill('Noah');
      await page.getByLabel('Last name', { exact: true }).fill('Nomail');
      await page.getByLabel('Email', { exact: true }).fill('');
      await page.getByLabel('externalId', { exact: true }).fill('noah-sub');
      await page.getByLabel('Send an invite email', { exact: true }).uncheck();
      await page.getByRole('button', { name: 'Invite' }).click();
      await page.getByText('Invite email: not sent (no email address).').waitFor();
      await page.getByText('A token of corp with sub =').waitFor();
      await consoleScreenshot(page, 'projects-members');

      // By email alone, without the email: the set-password link to hand over, shown once.
      await page.getByLabel('First name', { exact: true }).fill('Mia');
      await page.getByLabel('Last name', { exact: true }).fill('Handover');
      await page.getByLabel('externalId', { exact: true }).fill('');
      await page.getByLabel('Email', { exact: true }).fill('mia@example.com');
      await page.getByLabel('Send an invite email', { exact: true }).uncheck();
      await page.getByRole('button', { name: 'Invite' }).click();
      await page.getByText('Invite email: not sent (you did not ask for one).').waitFor();
      const shown = page.getByTestId('one-time-secret');
      const setPasswordLink = (await shown.textContent())!;
      expect(setPasswordLink.startsWith(`${bk.url}/login/set-password?token=`)).toBe(true);
      await page.getByRole('button', { name: 'I stored it: hide the set-password link' }).click();
      await shown.waitFor({ state: 'detached' });
      await expectClean(page, [setPasswordLink], 'invite link hidden');

      await row.getByRole('button', { name: 'Deactivate' }).click();
      const dialog = page.getByRole('dialog');
      expect(await dialog.getByRole('heading').textContent()).toBe(
        'Deactivate Ivy Invitee in Clinic Alpha?',
      );
      await dialog.getByRole('button', { name: 'Deactivate Ivy Invitee' }).click();
      await row.getByText('inactive').waitFor();
      await row.getByRole('button', { name: 'Remove' }).click();
      expect(await page.getByRole('dialog').getByRole('heading').textContent()).toBe(
        'Remove Ivy Invitee from Clinic Alpha?',
      );
      // Cancel keeps it, then remove for real.
      await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
      await row.waitFor();
      await row.getByRole('button', { name: 'Remove' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Remove Ivy Invitee' }).click();
      await row.waitFor({ state: 'detached' });

      await page.getByRole('link', { name: '← All projects' }).click();
      await page.getByRole('link', { name: 'Clinic Alpha' }).waitFor();
      await consoleScreenshot(page, 'projects');
      await expectClean(page, [...t.tokens, ADMIN_PASSWORD], 'projects');
      t.assertNoErrors();
    });
  });

  it('creates a client whose one-time secret works with openid-client, rotates it (old one refused), disables it; the built-in client is read-only', async () => {
    const t = await newConsolePage();
    await run(t, 'console-clients', async (page) => {
      await openConsole(page, bk, 'ada', ADMIN_PASSWORD, '/console/clients');
      await heading(page, 'Clients').waitFor();
      // The console's and the command line's own clients.
      await page.getByRole('row', { name: /Bridgekeeper console.*built in/ }).waitFor();
      await page.getByRole('row', { name: /Bridgekeeper CLI.*built in/ }).waitFor();
      await page.getByRole('link', { name: 'Register a client' }).click();
      await heading(page, 'Register a client').waitFor();
      await page.getByLabel('Name', { exact: true }).fill('Reporting service');
      // A redirect URI without the authorization code grant: refused here first.
      await page.getByLabel('Redirect URIs', { exact: true }).fill('https://app.example.com/cb');
      await page.getByRole('button', { name: 'Register the client' }).click();
      await page.getByText('Only authorization code clients have redirect URIs.').waitFor();
      await page.getByLabel('Redirect URIs', { exact: true }).fill('');
      await page.getByRole('button', { name: 'Register the client' }).click();

      const secretBox = page.getByTestId('one-time-secret');
      await secretBox.waitFor();
      await page.getByText('it is shown only this once').waitFor();
      const secret = (await secretBox.textContent())!;
      expect(secret.length).toBeGreaterThan(20);
      shownSecrets.push(secret);
      const clientId = (await page
        .locator('.copy-value', { hasText: 'client_id' })
        .locator('code')
        .textContent())!;
      await consoleScreenshot(page, 'client-secret-once');

      const grant = async (s: string) => {
        const config = await oidc.discovery(new URL(bk.url), clientId, s, undefined, {
          execute: [oidc.allowInsecureRequests],
        });
        return oidc.clientCredentialsGrant(config, { scope: 'api' });
      };
      const tokens = await grant(secret);
      expect(tokens.access_token).toBeTruthy();

      await page.getByRole('button', { name: 'I stored it: hide the client secret' }).click();
      await secretBox.waitFor({ state: 'detached' });
      await expectClean(page, [secret, tokens.access_token, ...t.tokens], 'client created');

      // Rotate: a confirmation naming the client, the new secret once, the old one refused.
      await page.getByRole('button', { name: 'Rotate the secret' }).click();
      expect(await page.getByRole('dialog').getByRole('heading').textContent()).toBe(
        'Rotate the secret of Reporting service?',
      );
      await page.getByRole('dialog').getByRole('button', { name: 'Rotate the secret' }).click();
      await page.getByRole('heading', { name: 'The new secret of Reporting service' }).waitFor();
      const rotated = (await secretBox.textContent())!;
      expect(rotated).not.toBe(secret);
      shownSecrets.push(rotated);
      await expect(grant(secret)).rejects.toThrow();
      expect((await grant(rotated)).access_token).toBeTruthy();
      // Leaving the client drops the secret too.
      await page.getByRole('link', { name: '← All clients' }).click();
      await heading(page, 'Clients').waitFor();
      await expectClean(page, [secret, rotated, ...t.tokens], 'client list');
      await consoleScreenshot(page, 'clients');

      await page.getByRole('link', { name: 'Reporting service' }).click();
      await heading(page, /Reporting service/).waitFor();
      expect(await secretBox.count()).toBe(0);
      await page.getByRole('button', { name: 'Disable' }).click();
      expect(await page.getByRole('dialog').getByRole('heading').textContent()).toBe(
        'Disable Reporting service?',
      );
      await page
        .getByRole('dialog')
        .getByRole('button', { name: 'Disable Reporting service' })
        .click();
      await heading(page, /Reporting service/)
        .getByText('disabled')
        .waitFor();
      await expect(grant(rotated)).rejects.toThrow();
      await page.getByRole('button', { name: 'Enable' }).click();
      await heading(page, /Reporting service/)
        .getByText('active')
        .waitFor();
      expect((await grant(rotated)).access_token).toBeTruthy();
      await consoleScreenshot(page, 'client');

      // The built-in console client: facts only.
      await page.getByRole('link', { name: '← All clients' }).click();
      await page
        .getByRole('row', { name: /Bridgekeeper console.*built in/ })
        .getByRole('link')
        .click();
      await page.getByText('This client is built in').waitFor();
      expect(await page.getByRole('button', { name: /Rotate|Disable|Save/ }).count()).toBe(0);
      await expectClean(page, [secret, rotated, ...t.tokens, ADMIN_PASSWORD], 'built-in client');
      t.assertNoErrors();
    });
  });

  it('shows the signing keys and rotates after a confirmation: the NEXT key becomes ACTIVE', async () => {
    const t = await newConsolePage();
    await run(t, 'console-signing-keys', async (page) => {
      await openConsole(page, bk, 'ada', ADMIN_PASSWORD, '/console/signing-keys');
      await heading(page, 'Signing keys').waitFor();
      const nextRow = page.locator('tr[data-status="NEXT"]');
      const activeRow = page.locator('tr[data-status="ACTIVE"]');
      await nextRow.waitFor();
      const next = (await nextRow.locator('td').first().textContent())!;
      const active = (await activeRow.locator('td').first().textContent())!;
      await consoleScreenshot(page, 'signing-keys');
      // By keyboard: the confirmation opens with Cancel focused, and Escape closes it unchanged.
      await page.getByRole('button', { name: 'Rotate now' }).focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('Cancel');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      expect(await page.locator('tr[data-status="ACTIVE"]').getByText(active).count()).toBe(1);
      await page.getByRole('button', { name: 'Rotate now' }).click();
      expect(await dialog.getByRole('heading').textContent()).toBe(
        `Rotate the signing key ${active}?`,
      );
      await dialog.getByRole('button', { name: 'Rotate the signing key' }).click();
      await page.getByText(`Rotated: ${next} signs new tokens from now on.`).waitFor();
      await page.locator(`tr[data-status="ACTIVE"]`).getByText(next).waitFor();
      await page.locator(`tr[data-status="RETIRED"]`).getByText(active).waitFor();
      // The JWKS publishes the new active key.
      const jwks = (await (await fetch(`${bk.url}/.well-known/jwks.json`)).json()) as {
        keys: { kid: string }[];
      };
      expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([next, active]));
      await expectClean(page, [...t.tokens, ADMIN_PASSWORD], 'signing keys');
      t.assertNoErrors();
    });
  });

  it('configures SSO against a real oidc-provider (secret write-only); a project admin signs in through it and sees only their project, at 360 px', async () => {
    const beta = await createProject(bk, adminToken, 'Clinic Beta');
    let gammaPath = '';
    let callback = '';
    let logout = '';
    const t = await newConsolePage();
    await run(t, 'console-sso', async (page) => {
      await openConsole(page, bk, 'ada', ADMIN_PASSWORD, '/console/sso');
      await heading(page, 'Single sign-on').waitFor();
      await page.getByText('No provider yet').waitFor();
      await page.getByRole('link', { name: 'Add a provider' }).click();
      await heading(page, 'Add a provider').waitFor();
      // Checked here first: an issuer URL that is not a trusted issuer's.
      await page.getByLabel('Issuer URL', { exact: true }).fill('https://idp.elsewhere.example');
      await page.getByLabel('Client ID', { exact: true }).fill('bk-console-sso');
      await page.getByLabel('Name (in URLs)', { exact: true }).fill('corp');
      await page.getByRole('button', { name: 'Save' }).click();
      await page
        .getByText(/Must be the exact issuer \(iss\) of one of the trusted issuers/)
        .waitFor();
      await page.getByLabel('Issuer URL', { exact: true }).fill(idp.issuer);
      await page.getByLabel('Client secret', { exact: true }).fill(SSO_SECRET);
      await page.getByLabel('Button label', { exact: true }).fill('Corp Login');
      await page.getByRole('button', { name: 'Add a custom claim' }).click();
      await page.getByLabel('Claim 1', { exact: true }).fill('tags');
      await page.getByLabel('Attribute 1', { exact: true }).fill('tags');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Register the two URLs below at Corp Login').waitFor();
      const urls = page.locator('.copy-value code');
      callback = (await urls.nth(0).textContent())!;
      logout = (await urls.nth(1).textContent())!;
      expect(callback).toBe(`${bk.url}/login/sso/corp/callback`);
      expect(logout).toBe(`${bk.url}/login/sso/corp/logged-out`);
      expect(await page.getByLabel('Client secret', { exact: true }).inputValue()).toBe('');
      await page.getByText('A secret is stored (never shown)').waitFor();
      expect(
        await page
          .getByLabel('Enabled: show “Continue with …” on the login page', { exact: true })
          .isChecked(),
      ).toBe(true);
      await consoleScreenshot(page, 'sso');
      await expectClean(page, [SSO_SECRET, ...t.tokens, ADMIN_PASSWORD], 'sso saved');

      // Invite the project admin into Clinic Alpha only, bound to corp, through the console.
      await page.goto(`${bk.url}/console/projects`);
      await page.getByRole('link', { name: 'Clinic Alpha' }).click();
      await heading(page, 'Clinic Alpha').waitFor();
      await page.getByLabel('First name', { exact: true }).fill('Pia');
      await page.getByLabel('Last name', { exact: true }).fill('Projectadmin');
      await page.getByLabel('externalId', { exact: true }).fill('pia');
      await page.getByLabel('Issuer', { exact: true }).selectOption('corp');
      await page.getByLabel('Project admin', { exact: true }).check();
      await page.getByRole('button', { name: 'Invite' }).click();
      await page.getByText('Pia Projectadmin is invited.').waitFor();
      gammaPath = `/console/projects/${beta}`;
      t.assertNoErrors();
    });

    // What an operator does at the provider: register the two URLs the console showed.
    await idp.registerClient({
      client_id: 'bk-console-sso',
      client_secret: SSO_SECRET,
      redirect_uris: [callback],
      post_logout_redirect_uris: [logout],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    });

    // Pia's API token links her membership (as her first call to an API would).
    expect((await bk.get('/oauth2/userinfo', await idp.login('pia'))).status).toBe(200);

    const p = await newConsolePage(360);
    await run(p, 'console-project-admin', async (page) => {
      await page.route(IDP_FONT, (route) =>
        route.fulfill({ status: 200, contentType: 'text/css', body: '' }),
      );
      await page.goto(`${bk.url}/console/projects`);
      await page.getByRole('link', { name: 'Continue with Corp Login' }).click();
      const login = page.locator('input[name="login"]');
      await login.waitFor();
      await login.fill('pia');
      await page.locator('input[name="password"]').fill('any password');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      await page.getByRole('button', { name: 'Continue' }).click();
      await heading(page, 'Projects').waitFor();
      await page.getByText('You see the projects you administer.').waitFor();
      await page.getByRole('link', { name: 'Clinic Alpha' }).waitFor();
      expect(await page.getByRole('link', { name: 'Clinic Beta' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Create project' }).count()).toBe(0);
      await page.getByRole('button', { name: 'Menu' }).click();
      expect(
        await page.getByRole('navigation', { name: 'Console' }).getByRole('link').allTextContents(),
      ).toEqual(['Projects', 'My account']);
      await page.getByRole('button', { name: 'Menu' }).click();
      await consoleScreenshot(page, 'projects-360');

      // Their project: invite with the issuer typed; the API's field error shows next to it.
      await page.getByRole('link', { name: 'Clinic Alpha' }).click();
      await heading(page, 'Clinic Alpha').waitFor();
      await page.getByLabel('First name', { exact: true }).fill('Zed');
      await page.getByLabel('Last name', { exact: true }).fill('Zero');
      await page.getByLabel('externalId', { exact: true }).fill('zed');
      await page.getByLabel('Issuer', { exact: true }).fill('nosuch');
      await page.getByRole('button', { name: 'Invite' }).click();
      await page
        .locator('.field-invalid')
        .filter({ hasText: 'issuer is not a trusted issuer' })
        .waitFor();
      await consoleScreenshot(page, 'project-360');

      // Another project by its address: refused, never shown.
      await page.goto(`${bk.url}${gammaPath}`);
      await page.getByRole('alert').waitFor();
      expect(await page.getByText('Clinic Beta').count()).toBe(0);
      // Admin pages by address: not allowed.
      await page.goto(`${bk.url}/console/clients`);
      await heading(page, 'Not allowed').waitFor();
      await expectClean(page, [SSO_SECRET, ...p.tokens, ...shownSecrets], 'project admin');
      p.assertNoErrors();
    });
  });
});
