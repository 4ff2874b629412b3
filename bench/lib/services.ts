import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { AUDIENCE, type LocalIssuer } from './issuer';
import { type Child, cleanEnv, freePort, start, tempDir, waitUntil } from './processes';

const ROOT = join(__dirname, '..', '..');
/** The built server; BENCH_MAIN_JS measures another build (e.g. a copy of dist from before a change). */
export const MAIN_JS = process.env.BENCH_MAIN_JS ?? join(ROOT, 'dist', 'main.js');
export const PROFILE_HOOK = join(ROOT, 'bench', 'servers', 'cpu-profile-hook.js');
/** The bench issuer's subject that is a Bridgekeeper admin (it registers the OAuth clients). */
export const BENCH_ADMIN = 'bench-admin';

export interface Bridgekeeper {
  child: Child;
  url: string;
  dataDir: string;
}

/**
 * Starts the built service (`dist/main.js`) as deployed (NODE_ENV=production, production mode) in its
 * own process with a fresh data dir (embedded PostgreSQL) and the local issuer as its only trusted
 * issuer; with `redisUrl`, Redis as the cache. Ready once `GET /health/ready` answers 200.
 */
export async function startBridgekeeper(
  name: string,
  issuer: LocalIssuer,
  options: {
    redisUrl?: string;
    userinfoIdp?: { issuer: string; url: string };
    /** Preloaded with bench/servers/cpu-profile-hook.js writing profiles there (SIGUSR2 on/off). */
    profileDir?: string;
    /** Extra BRIDGEKEEPER_* settings. */
    env?: Record<string, string>;
    /** Another build's main.js (default MAIN_JS). */
    mainJs?: string;
    /** Node flags (e.g. `--max-semi-space-size=4`); none by default, as deployed. */
    nodeFlags?: string[];
  } = {},
): Promise<Bridgekeeper> {
  const { redisUrl, userinfoIdp, profileDir } = options;
  const mainJs = options.mainJs ?? MAIN_JS;
  if (!existsSync(mainJs)) throw new Error(`${mainJs} not found: run \`npx nest build\` first`);
  const port = await freePort();
  const dataDir = tempDir('bk-bench-');
  const url = `http://127.0.0.1:${port}`;
  const env = cleanEnv({
    NODE_ENV: 'production',
    BRIDGEKEEPER_MODE: 'production',
    // Production mode needs a real secrets key (it encrypts the signing keys) and a public URL (the
    // issuer of Bridgekeeper's own tokens).
    BRIDGEKEEPER_SECRETS_KEY: randomBytes(32).toString('base64'),
    BRIDGEKEEPER_PUBLIC_URL: url,
    BRIDGEKEEPER_AUTH_ADMINS: `bench:${BENCH_ADMIN}`,
    BRIDGEKEEPER_HTTP_HOST: '127.0.0.1',
    BRIDGEKEEPER_HTTP_PORT: String(port),
    BRIDGEKEEPER_DATA_DIR: dataDir,
    // As deployed: info, one access-log line per request. The log goes to a file (stdout redirected),
    // not through a pipe into the benchmark process, which shares the load core with wrk.
    BRIDGEKEEPER_LOG_LEVEL: 'info',
    // One client from one address asks for thousands of tokens a second: the token endpoint's limits
    // (100 a second per client and per address by default) are raised out of the way, as an operator
    // would for a known high-volume client. They are still counted on every request: their cost is in
    // the numbers.
    BRIDGEKEEPER_RATE_LIMIT_TOKEN_PER_CLIENT: '10000000',
    BRIDGEKEEPER_RATE_LIMIT_TOKEN_PER_ADDRESS: '10000000',
    BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUERS: userinfoIdp ? 'bench,ui' : 'bench',
    ...(userinfoIdp
      ? {
          // A userinfo-validated issuer that also takes opaque tokens (issue 3).
          BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_UI_ISSUER: userinfoIdp.issuer,
          BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_UI_USERINFO: userinfoIdp.url,
          BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_UI_OPAQUE: 'true',
        }
      : {}),
    BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_BENCH_ISSUER: issuer.issuer,
    BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_BENCH_JWKS: issuer.jwksUrl,
    BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_BENCH_AUDIENCES: AUDIENCE,
    ...(redisUrl ? { BRIDGEKEEPER_REDIS_URL: redisUrl } : {}),
    ...(profileDir ? { BENCH_PROFILE_DIR: profileDir } : {}),
    ...options.env,
  });
  // cwd: the data dir, so that no bridgekeeper.properties of the checkout is picked up.
  const args = [...(options.nodeFlags ?? []), ...(profileDir ? ['-r', PROFILE_HOOK] : []), mainJs];
  const child = start(name, process.execPath, args, {
    env,
    cwd: dataDir,
    stdoutFile: join(dataDir, 'bridgekeeper.log'),
  });
  await waitUntil(child, 'GET /health/ready answered 200', async () => {
    const res = await fetch(`${url}/health/ready`);
    await res.arrayBuffer();
    return res.status === 200;
  });
  return { child, url, dataDir };
}

/** Counts the rows of the actors table in the embedded PostgreSQL of a running Bridgekeeper. */
export async function countActors(bk: Bridgekeeper): Promise<number> {
  return withDatabase(bk, async (client) => {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM actors');
    return Number(rows[0].n);
  });
}

/**
 * Stores `count` authorization codes `<prefix><i>` for one actor and public client, as
 * `GET /oauth2/authorize` would after a sign-in (SHA-256 of the code, PKCE challenge, one browser
 * session), valid for an hour: the benchmark measures the exchange at the token endpoint, each code
 * once, not the browser step. The actor is the oldest one of the bench issuer.
 */
export async function seedAuthorizationCodes(
  bk: Bridgekeeper,
  c: { clientId: string; redirectUri: string; challenge: string; prefix: string; count: number },
): Promise<void> {
  await withDatabase(bk, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      "SELECT id FROM actors WHERE issuer_name = 'bench' ORDER BY created_at LIMIT 1",
    );
    await client.query(
      `INSERT INTO oauth_authorization_codes
         (code_hash, client_id, actor_id, redirect_uri, code_challenge, scope, browser_session_id,
          auth_time, amr, expires_at)
       SELECT encode(sha256(convert_to($1 || i, 'UTF8')), 'hex'), $2, $3, $4, $5, '{openid}',
              gen_random_uuid()::text, extract(epoch FROM now())::bigint, '{pwd}',
              now() + interval '1 hour'
       FROM generate_series(0, $6 - 1) AS i`,
      [c.prefix, c.clientId, rows[0].id, c.redirectUri, c.challenge, c.count],
    );
  });
}

export async function withDatabase<T>(
  bk: Bridgekeeper,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  // The embedded database keeps its password next to its data, and its port in postmaster.pid (line 4).
  const password = readFileSync(join(bk.dataDir, 'postgres.password'), 'utf8').trim();
  const pid = readFileSync(join(bk.dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n');
  const client = new Client({
    host: '127.0.0.1',
    port: Number(pid[3]),
    user: 'postgres',
    password,
    database: 'bridgekeeper',
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function hasRedis(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A throwaway `redis-server` on a free loopback port, no persistence; ready once it answers PING. */
export async function startRedis(): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const dir = tempDir('bk-bench-redis-');
  const child = start(
    'redis-server',
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { cwd: dir },
  );
  await waitUntil(child, 'PONG', () => redisPing(port), 30_000);
  return { child, url: `redis://127.0.0.1:${port}` };
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      answer += d.toString();
      if (answer.includes('\r\n')) socket.end();
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(answer.startsWith('+PONG')));
  });
}
