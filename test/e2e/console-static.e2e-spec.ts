import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningBridgekeeper, startBridgekeeper } from '../support/bridgekeeper';

// Issue 10: the admin console's build served at /console. A temporary build directory stands in for
// console/dist (bridgekeeper.console.dir), with a secret file beside it and symlinks pointing at it:
// nothing outside the directory may ever be served, however the path is spelled.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const INDEX =
  '<!doctype html><html><head><script type="module" src="/console/assets/app-4f2a9c.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = 'console.log("console app");';
const SECRET = 'top-secret-outside-the-build';

/** A GET with the path sent exactly as written (fetch would normalise dot segments away). */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the admin console files at /console', () => {
  let bk: RunningBridgekeeper;
  let base: string;
  let dist: string;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'bk-console-'));
    dist = join(base, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), INDEX);
    writeFileSync(join(dist, 'assets', 'app-4f2a9c.js'), SCRIPT);
    writeFileSync(join(dist, 'assets', 'app-77aa01.css'), 'body{margin:0}');
    writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(dist, '.env'), SECRET);
    writeFileSync(join(base, 'secret.txt'), SECRET);
    symlinkSync(join(base, 'secret.txt'), join(dist, 'leak.txt'));
    symlinkSync(join(base, 'secret.txt'), join(dist, 'assets', 'evil.js'));
    symlinkSync(base, join(dist, 'up'));
    bk = await startBridgekeeper({
      issuers: [],
      properties: { 'bridgekeeper.console.dir': dist },
    });
  });

  afterAll(async () => {
    await bk?.close();
    rmSync(base, { recursive: true, force: true });
  });

  function expectPageHeaders(res: Response): void {
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  }

  it.each(['/console', '/console/', '/console/actors/123', '/console/issuers?tab=new'])(
    'answers %s with the app, never cached, under a strict CSP',
    async (path) => {
      const res = await bk.get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expectPageHeaders(res);
      expect(await res.text()).toBe(INDEX);
    },
  );

  it('serves hashed assets with their content type, cached for a year', async () => {
    const js = await bk.get('/console/assets/app-4f2a9c.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expectPageHeaders(js);
    expect(await js.text()).toBe(SCRIPT);
    const css = await bk.get('/console/assets/app-77aa01.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const icon = await bk.get('/console/favicon.svg');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(icon.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers a missing asset or file 404, not the app', async () => {
    for (const path of ['/console/assets/gone-123.js', '/console/missing.png']) {
      const res = await bk.get(path);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('<html');
    }
  });

  it.each([
    '/console/../package.json',
    '/console/assets/../../secret.txt',
    '/console/%2e%2e/secret.txt',
    '/console/%2E%2E/%2E%2E/package.json',
    '/console/..%2fsecret.txt',
    '/console/assets/..%2F..%2Fsecret.txt',
    '/console/..%5csecret.txt',
    '/console/%2e%2e%5c%2e%2e%5csecret.txt',
    '/console/.env',
    '/console/%2eenv',
    '/console/leak.txt',
    '/console/assets/evil.js',
    '/console/up/secret.txt',
    '/console/secret.txt%00.js',
    '/console/%E0%A4%A',
    '/console//etc/passwd',
    '/console/C:%5cwindows',
  ])('never serves anything outside the build: %s', async (path) => {
    const res = await rawGet(bk.url, path);
    expect(res.body).not.toContain(SECRET);
    expect(res.body).not.toContain('"dependencies"');
    // A deep link that names no file is the app itself; everything else is refused with a 4xx.
    if (res.status === 200) expect(res.body).toBe(INDEX);
    else expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('refuses the spellings that try to climb out, with a 404', async () => {
    for (const path of ['/console/%2e%2e/secret.txt', '/console/leak.txt', '/console/.env']) {
      expect((await rawGet(bk.url, path)).status).toBe(404);
    }
  });

  it('answers HEAD like GET, without a body', async () => {
    const res = await fetch(`${bk.url}/console/actors`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers 503 with how to build it while the console is not built', async () => {
    renameSync(join(dist, 'index.html'), join(dist, 'index.html.moved'));
    try {
      // Paths not asked before (an answer is reused for a few seconds after it was resolved).
      for (const path of ['/console/unbuilt/1', '/console/unbuilt/2', '/console/assets/new-1.js']) {
        const res = await bk.get(path);
        expect(res.status).toBe(503);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(await res.text()).toContain('npm run build');
      }
    } finally {
      renameSync(join(dist, 'index.html.moved'), join(dist, 'index.html'));
    }
    expect((await bk.get('/console/unbuilt/1')).status).toBe(200);
  });

  it('never lets GET / or other routes fall into the console', async () => {
    expect((await bk.get('/consolex')).status).toBe(404);
  });
});
