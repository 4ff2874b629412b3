/**
 * A minimal browser for the server-rendered pages, over plain fetch: a cookie jar (name → value, for one
 * origin), manual redirects (each hop is visible to the test), and form helpers that read hidden fields
 * (the CSRF token) from the HTML. It sends `Origin` on POSTs as a browser does.
 */
export class TestBrowser {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    private readonly origin: string = new URL(baseUrl).origin,
  ) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const maxAge = attrs.map((a) => a.trim().toLowerCase()).find((a) => a.startsWith('max-age='));
      if (value === '' || maxAge === 'max-age=0') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const res = await fetch(new URL(path, this.baseUrl), {
      redirect: 'manual',
      headers: { cookie: this.cookieHeader(), ...headers },
    });
    this.remember(res);
    return res;
  }

  async post(
    path: string,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const res = await fetch(new URL(path, this.baseUrl), {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: this.origin,
        cookie: this.cookieHeader(),
        ...headers,
      },
      body: new URLSearchParams(fields).toString(),
    });
    this.remember(res);
    return res;
  }

  /** GET a page with a form, then POST the form with its hidden fields plus `fields`. */
  async submit(
    pagePath: string,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const page = await this.get(pagePath);
    const text = await page.text();
    const form = parseForm(text);
    if (!form)
      throw new Error(`no form on ${pagePath} (status ${page.status}): ${text.slice(0, 300)}`);
    return this.post(form.action, { ...form.hidden, ...fields }, headers);
  }
}

/** The first form's action and hidden fields. */
export function parseForm(
  htmlText: string,
): { action: string; hidden: Record<string, string> } | undefined {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/.exec(htmlText);
  if (!form) return undefined;
  const hidden: Record<string, string> = {};
  for (const tag of form[2].match(/<input\b[^>]*>/g) ?? []) {
    const attr = (n: string) => new RegExp(`\\s${n}="([^"]*)"`).exec(tag)?.[1];
    const name = attr('name');
    if (attr('type') === 'hidden' && name) hidden[name] = unescapeHtml(attr('value') ?? '');
  }
  return { action: unescapeHtml(form[1]), hidden };
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
