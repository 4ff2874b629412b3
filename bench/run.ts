import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { exportJWK, SignJWT } from 'jose';

// `npm run bench`: Bridgekeeper against a bare node:http ceiling, in one run, on this machine.
// Servers are pinned to core 1 (`taskset`), the load generator to core 0. Ratios to the ceiling measured
// in the same run are what to compare; absolute numbers vary between machines and runs.

const ROOT = join(__dirname, '..');
const DURATION = Number(process.env.BENCH_DURATION ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const FIRST_LOGINS = Number(process.env.BENCH_FIRST_LOGINS ?? 8000);
const SLICES = Number(process.env.BENCH_SLICES ?? 5);
const AUDIENCE = 'bridgekeeper-bench';
const TARGETS: Record<string, number> = {
  'repeated token': 0.55,
  'GraphQL me': 0.3,
  'distinct tokens (1000)': 0.2,
};
const FIRST_LOGIN_TARGET = 1000;

const children: ChildProcess[] = [];
const tempDirs: string[] = [];
let issuerServer: Server | undefined;

const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return process.env.BENCH_NO_PIN === undefined;
  } catch {
    return false;
  }
})();

function pinned(cmd: string, args: string[]): [string, string[]] {
  return hasTaskset ? ['taskset', ['-c', '1', cmd, ...args]] : [cmd, args];
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function waitHttp(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${url}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function start(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const [c, a] = pinned(cmd, args);
  const child = spawn(c, a, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function cleanup(): Promise<void> {
  await Promise.all(children.map(stop));
  issuerServer?.close();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}

// ---------------------------------------------------------------- the local issuer (JWKS + signer)
async function startIssuer() {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' };
  const port = await freePort();
  issuerServer = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
  );
  await new Promise<void>((r) => issuerServer!.listen(port, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${port}`;
  const sign = (sub: string, extra: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub, aud: AUDIENCE, iss: issuer, iat: now, exp: now + 3600, ...extra })
      .setProtectedHeader({ alg: 'RS256', kid: 'bench-1', typ: 'JWT' })
      .sign(privateKey);
  };
  return { issuer, jwks: `${issuer}/jwks`, sign };
}

// ---------------------------------------------------------------- servers
async function startCeiling(): Promise<string> {
  const port = await freePort();
  const code = `require('node:http').createServer((q, s) => { s.writeHead(200, {'content-type': 'application/json'}); s.end('{"sub":"ceiling","issuer":"bench"}'); }).listen(${port}, '127.0.0.1')`;
  start(process.execPath, ['-e', code]);
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(url);
  return url;
}

async function startRedis(): Promise<string | undefined> {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    console.warn(
      'redis-server not found: skipping the Redis variant (apt-get install redis-server)',
    );
    return undefined;
  }
  const port = await freePort();
  start('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  await new Promise((r) => setTimeout(r, 500));
  return `redis://127.0.0.1:${port}`;
}

async function startBridgekeeper(issuer: { issuer: string; jwks: string }, redisUrl?: string) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'bk-bench-'));
  tempDirs.push(dataDir);
  const env: Record<string, string> = {
    // As deployed (the Docker image sets it too): graphql-js skips its development-only checks.
    NODE_ENV: 'production',
    BRIDGEKEEPER_MODE: 'production',
    BRIDGEKEEPER_HTTP_PORT: String(port),
    BRIDGEKEEPER_DATA_DIR: dataDir,
    BRIDGEKEEPER_LOG_LEVEL: 'warn',
    BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUERS: 'bench',
    BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_BENCH_ISSUER: issuer.issuer,
    BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_BENCH_JWKS: issuer.jwks,
    BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_BENCH_AUDIENCES: AUDIENCE,
    ...(redisUrl ? { BRIDGEKEEPER_REDIS_URL: redisUrl } : {}),
  };
  const child = start(process.execPath, [join(ROOT, 'dist', 'main.js')], env);
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/health/ready`);
  return { url, child };
}

// ---------------------------------------------------------------- load
interface Result {
  variant: string;
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  ratio?: number;
  /** The ceiling this result is compared to: mean of the runs just before and just after it. */
  ceiling?: number;
  actorsPerSecond?: number;
}

type Req = { method?: string; path?: string; headers?: Record<string, string>; body?: string };

async function load(
  url: string,
  pick: () => Req,
  opts: { duration?: number; amount?: number } = {},
): Promise<autocannon.Result> {
  const first = pick();
  return autocannon({
    url,
    connections: CONNECTIONS,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.duration ?? DURATION }),
    requests: [
      {
        method: (first.method ?? 'GET') as 'GET',
        path: first.path ?? '/',
        setupRequest: (req) => ({ ...req, ...pick() }) as typeof req,
      },
    ],
  });
}

/** Runs the ceiling for a few seconds (set once the ceiling server runs); paired with every slice. */
let ceilingProbe: ((seconds: number) => Promise<number>) | undefined;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Warm-up, then SLICES pairs of (ceiling slice, scenario slice) back to back: the ratio of each pair is
 * taken while the machine runs at one speed, and the median pair is reported. Without a ceiling yet, one
 * plain run.
 */
async function measure(
  variant: string,
  scenario: string,
  url: string,
  pick: () => Req,
): Promise<Result> {
  await load(url, pick, { duration: 3 }); // warm-up
  const runs: { r: autocannon.Result; ceiling?: number }[] = [];
  if (!ceilingProbe) runs.push({ r: await load(url, pick) });
  else {
    const slice = Math.max(1, Math.round(DURATION / SLICES));
    for (let i = 0; i < SLICES; i++) {
      const ceiling = await ceilingProbe(slice);
      runs.push({ r: await load(url, pick, { duration: slice }), ceiling });
    }
  }
  const ratios = runs.filter((x) => x.ceiling).map((x) => x.r.requests.average / x.ceiling!);
  const total = runs.reduce((n, x) => n + x.r.requests.total, 0);
  const non2xx = runs.reduce((n, x) => n + x.r.non2xx + x.r.errors + x.r.timeouts, 0);
  const result: Result = {
    variant,
    scenario,
    rps: Math.round(median(runs.map((x) => x.r.requests.average))),
    p50: median(runs.map((x) => x.r.latency.p50)),
    p99: median(runs.map((x) => x.r.latency.p99)),
    non2xx,
  };
  if (ratios.length > 0) {
    result.ratio = Math.round(median(ratios) * 100) / 100;
    result.ceiling = Math.round(median(runs.map((x) => x.ceiling!)));
  }
  if (non2xx > total * 0.01) {
    throw new Error(`${variant} / ${scenario}: ${non2xx} of ${total} responses were not 2xx`);
  }
  return result;
}

function cycle<T>(items: T[]): () => T {
  let i = 0;
  return () => items[i++ % items.length];
}

async function scenarios(
  variant: string,
  url: string,
  issuer: Awaited<ReturnType<typeof startIssuer>>,
  withFirstLogins: boolean,
): Promise<Result[]> {
  const out: Result[] = [];
  const auth = (t: string) => ({ authorization: `Bearer ${t}` });

  const repeated = await issuer.sign(`repeat-${variant}`);
  out.push(
    await measure(variant, 'repeated token', url, () => ({
      path: '/oauth2/userinfo',
      headers: auth(repeated),
    })),
  );

  out.push(
    await measure(variant, 'GraphQL me', url, () => ({
      method: 'POST',
      path: '/graphql',
      headers: { ...auth(repeated), 'content-type': 'application/json' },
      body: '{"query":"{ me { id issuer subject roles } }"}',
    })),
  );

  const distinct = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => issuer.sign(`distinct-${variant}-${i}`)),
  );
  // Create the actors first: the scenario is about existing actors.
  for (let i = 0; i < distinct.length; i += 50) {
    await Promise.all(
      distinct.slice(i, i + 50).map((t) => fetch(`${url}/oauth2/userinfo`, { headers: auth(t) })),
    );
  }
  const nextDistinct = cycle(distinct);
  out.push(
    await measure(variant, 'distinct tokens (1000)', url, () => ({
      path: '/oauth2/userinfo',
      headers: auth(nextDistinct()),
    })),
  );

  if (withFirstLogins) {
    const tokens = await Promise.all(
      Array.from({ length: FIRST_LOGINS }, (_, i) =>
        issuer.sign(`new-${variant}-${i}-${Date.now()}`),
      ),
    );
    let i = 0;
    const r = await load(
      url,
      () => ({ path: '/oauth2/userinfo', headers: auth(tokens[i++ % tokens.length]) }),
      {
        amount: tokens.length,
      },
    );
    const seconds = r.duration;
    out.push({
      variant,
      scenario: 'first logins',
      rps: Math.round(r.requests.average),
      p50: r.latency.p50,
      p99: r.latency.p99,
      non2xx: r.non2xx + r.errors + r.timeouts,
      actorsPerSecond: Math.round(r['2xx'] / seconds),
    });
  }
  return out;
}

function report(ceiling: Result, results: Result[]): void {
  const rows = [ceiling, ...results].map((r) => {
    const target = r.actorsPerSecond !== undefined ? FIRST_LOGIN_TARGET : TARGETS[r.scenario];
    const value = r.actorsPerSecond ?? r.ratio;
    const verdict =
      target === undefined || value === undefined ? '' : value >= target ? 'PASS' : 'BELOW';
    return {
      variant: r.variant,
      scenario: r.scenario,
      'req/s': r.rps,
      'p50 ms': r.p50,
      'p99 ms': r.p99,
      ceiling: r.ceiling ?? '',
      ratio: r.ratio ?? '',
      'actors/s': r.actorsPerSecond ?? '',
      target:
        target === undefined
          ? ''
          : r.actorsPerSecond !== undefined
            ? `≥ ${target}/s`
            : `≥ ${target}×`,
      verdict,
      non2xx: r.non2xx,
    };
  });
  console.table(rows);
}

async function main(): Promise<void> {
  if (hasTaskset)
    execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  console.log(
    `bench: ${DURATION}s per scenario, ${CONNECTIONS} connections, servers ${hasTaskset ? 'pinned to core 1, load on core 0' : 'not pinned (no taskset)'}`,
  );
  const issuer = await startIssuer();

  // The machine's speed drifts during a run (the ceiling alone moves between 16k and 30k req/s here):
  // every scenario slice is paired with a ceiling slice just before it (see measure).
  const ceilingUrl = await startCeiling();
  const ceilings: number[] = [];
  const ceilingRun = await measure('node:http', 'ceiling', ceilingUrl, () => ({ path: '/' }));
  ceilingProbe = async (seconds: number) => {
    const r = await load(ceilingUrl, () => ({ path: '/' }), { duration: seconds });
    ceilings.push(Math.round(r.requests.average));
    return r.requests.average;
  };
  const results: Result[] = [];
  const variants: { name: string; redis: boolean; firstLogins: boolean }[] = [
    { name: 'embedded', redis: false, firstLogins: true },
    { name: 'redis', redis: true, firstLogins: false },
  ];
  for (const v of variants) {
    const redisUrl = v.redis ? await startRedis() : undefined;
    if (v.redis && !redisUrl) continue;
    const bk = await startBridgekeeper(issuer, redisUrl);
    results.push(...(await scenarios(v.name, bk.url, issuer, v.firstLogins)));
    await stop(bk.child);
  }
  const ceiling: Result = {
    ...ceilingRun,
    rps: Math.round(ceilings.reduce((a, b) => a + b, 0) / ceilings.length),
    ratio: 1,
    scenario: `ceiling (mean of ${ceilings.length} runs)`,
  };
  console.log(`ceiling runs: ${ceilings.join(', ')} req/s`);

  report(ceiling, results);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        pinned: hasTaskset,
        duration: DURATION,
        connections: CONNECTIONS,
        ceilings,
        ceiling,
        results,
      },
      null,
      2,
    ),
  );
  console.log(`results written to ${file}`);
}

process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
main()
  .then(cleanup)
  .catch(async (err: unknown) => {
    console.error(err);
    await cleanup();
    process.exit(1);
  });
