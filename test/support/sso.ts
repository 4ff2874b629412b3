import { parseForm, type TestBrowser } from './browser';

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
