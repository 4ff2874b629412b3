import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import type { RunningBridgekeeper } from './bridgekeeper';
import { browserState, onFailure, screenshot, type TestChromium, type TestPage } from './chromium';

/**
 * Helpers for the admin console's browser tests (issue 10): people with local accounts, signing in to
 * /console through the real login page, the README's screenshots, and the check that nothing secret
 * stays in the browser.
 */
export const CONSOLE_SCREENSHOTS = join(__dirname, '..', '..', 'docs', 'console');

/** Creates a local account (with its actor) and returns its actor id. */
export async function createPerson(
  bk: RunningBridgekeeper,
  username: string,
  password: string,
  extra: { email?: string; displayName?: string; roles?: string[] } = {},
): Promise<string> {
  const ref = await bk.app.get(LocalAccountsService).create({
    username,
    password,
    email: extra.email,
    displayName: extra.displayName,
    roles: extra.roles,
  });
  return ref.actorId;
}

/**
 * Opens `path` under /console in `page` and signs in on the login page it leads to (when the browser
 * has no session yet); resolves once the console's shell shows (its header).
 */
export async function openConsole(
  page: Page,
  bk: RunningBridgekeeper,
  username: string,
  password: string,
  path = '/console/',
): Promise<void> {
  await page.goto(`${bk.url}${path}`);
  const login = page.getByLabel('Username or email');
  // The header's sign-out button shows at every width (the navigation hides behind Menu at 360 px).
  const shell = page.getByRole('banner').getByRole('button', { name: 'Sign out' });
  await login.or(shell).first().waitFor();
  if (await login.isVisible()) {
    await login.fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await shell.waitFor();
}

/** The README's screenshot of a console page: docs/console/<name>.png. */
export function consoleScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(CONSOLE_SCREENSHOTS, { recursive: true });
  return screenshot(page, name, CONSOLE_SCREENSHOTS);
}

/**
 * Fails when one of `secrets` is in the page's DOM, localStorage or sessionStorage, or in the server's
 * log. `label` names the place for the message (never the secret itself).
 */
export async function expectNothingSecret(
  page: Page,
  bk: RunningBridgekeeper,
  secrets: string[],
  label: string,
): Promise<void> {
  const state = await browserState(page);
  const log = bk.logs.join('\n');
  secrets.forEach((secret, i) => {
    if (!secret) return;
    if (state.includes(secret)) throw new Error(`${label}: secret #${i} is in the browser`);
    if (log.includes(secret)) throw new Error(`${label}: secret #${i} is in the server log`);
  });
}

/** localStorage and sessionStorage keys and values (the console keeps no token in either). */
export function storageOf(page: Page): Promise<{ local: string[]; session: string[] }> {
  return page.evaluate<{ local: string[]; session: string[] }>(`(() => {
    const dump = (s) => Array.from({ length: s.length }, (_, i) => s.key(i) + '=' + s.getItem(s.key(i)));
    return { local: dump(localStorage), session: dump(sessionStorage) };
  })()`);
}

/** A new context whose token endpoint answers are recorded, to prove they never stay in the page. */
export async function newRecordingPage(
  chromium: TestChromium,
  width = 1280,
): Promise<TestPage & { tokens: string[] }> {
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

/** Runs a browser test body (a screenshot named `name` when it fails) and closes its context. */
export async function runInPage(
  t: TestPage,
  name: string,
  body: (page: Page) => Promise<void>,
): Promise<void> {
  try {
    await onFailure(t.page, name, () => body(t.page));
  } finally {
    await t.close();
  }
}
