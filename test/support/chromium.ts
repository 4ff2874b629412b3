import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';
import { ensureDebianBinary } from './redis';

/**
 * A real headless Chromium (Debian's package) driven by playwright-core, for the browser end-to-end
 * tests. One browser per test file (`launchChromium` in `beforeAll`, `close` in `afterAll`), a new
 * context per test (`newPage`). Each page records its console errors, uncaught page errors and failed
 * same-origin requests; `assertNoErrors` fails the test on them. Screenshots go to
 * `test/artifacts/screenshots` (git-ignored): `screenshot(page, name)` always, `onFailure` per test.
 */
export interface TestChromium {
  browser: Browser;
  /** A fresh context (own cookies and storage) and a page in it. */
  newPage(options?: BrowserContextOptions): Promise<TestPage>;
  close(): Promise<void>;
}

export interface TestPage {
  page: Page;
  context: BrowserContext;
  /** console.error lines and uncaught exceptions seen on the page so far. */
  errors: string[];
  /** Throws when the page logged an error (pass substrings to tolerate, e.g. an expected 401). */
  assertNoErrors(tolerate?: string[]): void;
  close(): Promise<void>;
}

export const SCREENSHOT_DIR = join(__dirname, '..', 'artifacts', 'screenshots');

/** Flags that matter on these machines (../shared/BROWSER-TESTS.md): no sandbox as root, no background traffic. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-dev-shm-usage',
];

/** Finds Debian's chromium, installing it (as root) like redis-server when missing. */
export function ensureChromium(): string {
  return ensureDebianBinary('chromium', 'chromium', 'the browser tests');
}

export async function launchChromium(): Promise<TestChromium> {
  const executablePath = ensureChromium();
  // playwright-core gives every launch a fresh, empty profile directory of its own (and removes it).
  const browser = await chromium.launch({ executablePath, headless: true, args: FLAGS });
  const contexts = new Set<BrowserContext>();
  return {
    browser,
    async newPage(options = {}) {
      const context = await browser.newContext({ ...options });
      contexts.add(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
      });
      page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
      return {
        page,
        context,
        errors,
        assertNoErrors(tolerate = []) {
          const unexpected = errors.filter((e) => !tolerate.some((t) => e.includes(t)));
          if (unexpected.length > 0)
            throw new Error(`the page logged errors:\n${unexpected.join('\n')}`);
        },
        async close() {
          contexts.delete(context);
          await context.close().catch(() => undefined);
        },
      };
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
    },
  };
}

/** Saves a full-page screenshot as `<dir>/<name>.png` and returns its path. */
export async function screenshot(page: Page, name: string, dir = SCREENSHOT_DIR): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name.replace(/[^a-zA-Z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Runs `body` and, when it throws, saves a screenshot named after the test before rethrowing, so a
 * failed browser test leaves a picture of what the browser showed.
 */
export async function onFailure<T>(page: Page, name: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    await screenshot(page, `FAILED-${name}`).catch(() => undefined);
    throw err;
  }
}

/** Everything a page keeps in the browser: the DOM's text and HTML, localStorage and sessionStorage. */
export async function browserState(page: Page): Promise<string> {
  // A string, evaluated in the page: the tests are compiled without the DOM library.
  return page.evaluate<string>(`(() => {
    const dump = (s) => Array.from({ length: s.length }, (_, i) => s.key(i) + '=' + s.getItem(s.key(i))).join('\\n');
    return [document.documentElement.outerHTML, dump(localStorage), dump(sessionStorage)].join('\\n');
  })()`);
}
