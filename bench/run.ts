import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { type LocalIssuer, signAll, startIssuer } from './lib/issuer';
import { CONNECTIONS, type LoadRun, type LoadSpec, runLoad } from './lib/load';
import { cleanup, pinned, pinSelf, runWithCleanup, stop } from './lib/processes';
import { formatTable, type Row, type Target, verdictOf } from './lib/report';
import {
  BENCH_ADMIN,
  type Bridgekeeper,
  countActors,
  hasRedis,
  seedAuthorizationCodes,
  startBridgekeeper,
  startRedis,
} from './lib/services';
import { startStaticJson } from './lib/static-server';
import { startUserinfoIdp, type UserinfoIdp } from './lib/userinfo-idp';

// `npm run bench`: Bridgekeeper against a bare node:http server (the ceiling), in one run, on this
// machine. See bench/README.md. Every scenario is measured in slices, each right after a slice of the
// ceiling; the ratio reported is the median of the per-pair ratios, so a machine that changes speed
// during the run (they do) does not decide the outcome.

const ROOT = join(__dirname, '..');
const SLICE_SECONDS = Number(process.env.BENCH_SLICE_SECONDS ?? 3);
const SLICES = Number(process.env.BENCH_SLICES ?? 5);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const FIRST_LOGINS = Number(process.env.BENCH_FIRST_LOGINS ?? 12_000);
const FIRST_LOGINS_WARMUP = 1000;
const DISTINCT_TOKENS = 1000;
/** More than this share of failed answers makes the run fail: a benchmark of 401s is worthless. */
const MAX_FAILED_SHARE = 0.01;

const TARGETS = {
  repeated: { kind: 'ratio', min: 0.55 },
  graphql: { kind: 'ratio', min: 0.3 },
  distinct: { kind: 'ratio', min: 0.2 },
  firstLogins: { kind: 'actors/s', min: 1000 },
  // Issue 4: Keycloak's sizing guide plans 120 grants/s per vCPU; Ory Hydra reports 513/s on 2 CPUs.
  clientCredentials: { kind: 'req/s', min: 2000 },
} satisfies Record<string, Target>;

// About the size of a userinfo answer.
const CEILING_BODY = JSON.stringify({
  sub: '00000000-0000-4000-8000-000000000000',
  issuer: 'bench',
  subject: 'ceiling',
  roles: [],
});
const GRAPHQL_ME = JSON.stringify({ query: '{ me { id } }' });
const BURSTS = 20;
const BURST_SIZE = 100;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
/** Authorization codes stored per variant for scenario 9: more than 18 s of exchanges can use. */
const CODES = Number(process.env.BENCH_CODES ?? 60_000);
const rotate = <T>(items: T[]): (() => T) => {
  let i = 0;
  return () => items[i++ % items.length];
};

class Bench {
  readonly rows: Row[] = [];
  readonly ceilingRuns: LoadRun[] = [];

  constructor(
    private readonly ceiling: LoadSpec,
    private readonly issuer: LocalIssuer,
  ) {}

  /** One slice of the ceiling, recorded, for the scenario slice that follows it. */
  private async ceilingSlice(): Promise<LoadRun> {
    const run = await runLoad(this.ceiling, { seconds: SLICE_SECONDS });
    this.ceilingRuns.push(run);
    return run;
  }

  /** Warm-up, then SLICES pairs of (ceiling slice, scenario slice). */
  async measure(
    variant: string,
    scenario: string,
    spec: LoadSpec,
    target: Target | undefined,
  ): Promise<Row> {
    process.stdout.write(`  ${variant} / ${scenario}: `);
    await runLoad(spec, { seconds: WARMUP_SECONDS });
    const pairs: { ceiling: LoadRun; run: LoadRun }[] = [];
    for (let i = 0; i < SLICES; i++) {
      const ceiling = await this.ceilingSlice();
      const run = await runLoad(spec, { seconds: SLICE_SECONDS });
      pairs.push({ ceiling, run });
      process.stdout.write(`${Math.round(run.rps)}/${Math.round(ceiling.rps)} `);
    }
    process.stdout.write('\n');
    const runs = pairs.map((p) => p.run);
    const row = this.row(variant, scenario, runs, target, {
      ceilingRps: median(pairs.map((p) => p.ceiling.rps)),
      ratio: median(pairs.map((p) => p.run.rps / p.ceiling.rps)),
    });
    this.rows.push(row);
    return row;
  }

  private row(
    variant: string,
    scenario: string,
    runs: LoadRun[],
    target: Target | undefined,
    extra: Partial<Row>,
  ): Row {
    const total = runs.reduce((n, r) => n + r.total, 0);
    const failed = runs.reduce((n, r) => n + r.failed, 0);
    const statusCodes: Record<string, number> = {};
    for (const r of runs)
      for (const [code, n] of Object.entries(r.statusCodes))
        statusCodes[code] = (statusCodes[code] ?? 0) + n;
    const row: Row = {
      variant,
      scenario,
      rps: median(runs.map((r) => r.rps)),
      // Per-slice percentiles: the median slice's.
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      ceilingRps: NaN,
      ratio: NaN,
      total,
      failed,
      statusCodes,
      serverCpu: median(runs.map((r) => r.serverCpu)),
      loadCpu: median(runs.map((r) => r.loadCpu)),
      otherCpu: median(runs.map((r) => r.otherCpu)),
      target,
      verdict: '',
      slices: runs.map((r) => Math.round(r.rps)),
      ...extra,
    };
    if (total === 0 || failed > total * MAX_FAILED_SHARE) {
      row.problem ??= `${failed} of ${total} answers failed (status codes ${JSON.stringify(statusCodes)})`;
    }
    row.verdict = verdictOf(row);
    return row;
  }

  /** Scenarios 1-4 against one running Bridgekeeper. */
  async scenarios(variant: string, bk: Bridgekeeper, serverPids: number[]): Promise<void> {
    const sign = (sub: string) => this.issuer.sign(sub);
    const userinfo = (headers: Record<string, string>): LoadSpec => ({
      url: bk.url,
      path: '/oauth2/userinfo',
      headers,
      serverPids,
    });

    // 1. The same valid token on every request.
    const token = await sign(`repeated-${variant}`);
    const repeated = userinfo(bearer(token));
    repeated.expectBody = await probe(repeated, isUserinfo);
    await this.measure(variant, '1 repeated token', repeated, TARGETS.repeated);

    // 2. 1000 distinct tokens of existing actors, a different one on each request (all connections
    //    share one rotation). The actors are created first, one userinfo call per token.
    const tokens = await signAll(
      this.issuer,
      Array.from({ length: DISTINCT_TOKENS }, (_, i) => `distinct-${variant}-${i}`),
    );
    await createActors(bk.url, tokens);
    const nextDistinct = rotate(tokens);
    const distinct = { ...userinfo({}), perRequest: () => bearer(nextDistinct()) };
    await probe(distinct, isUserinfo);
    await this.measure(
      variant,
      `2 distinct tokens (${DISTINCT_TOKENS})`,
      distinct,
      TARGETS.distinct,
    );

    // 3. GraphQL `{ me { id } }`, the token of scenario 1.
    const graphql: LoadSpec = {
      url: bk.url,
      method: 'POST',
      path: '/graphql',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: GRAPHQL_ME,
      serverPids,
    };
    graphql.expectBody = await probe(graphql, isGraphqlMe);
    await this.measure(variant, '3 GraphQL me', graphql, TARGETS.graphql);

    // 4. First logins: every request a never-seen subject; tokens signed before measuring.
    await this.firstLogins(variant, bk, serverPids);

    // 5-6. The userinfo-validated issuer (issue 3): cache hits, and bursts of identical new tokens.
    if (this.userinfoIdp) await this.userinfoScenarios(variant, bk, serverPids, this.userinfoIdp);

    // 7-8. Bridgekeeper as an OAuth provider (issue 4).
    await this.oauthScenarios(variant, bk, serverPids);
  }

  /**
   * 7: client-credentials grants (`POST /oauth2/token`, HTTP Basic); 8: token exchanges (RFC 8693) of
   * the bench issuer's tokens, rotating over the actors of scenario 2. Clients are registered through
   * GraphQL by the bench admin, as an operator would.
   */
  private async oauthScenarios(variant: string, bk: Bridgekeeper, serverPids: number[]) {
    const admin = await this.issuer.sign(BENCH_ADMIN);
    const client = await registerClient(bk.url, admin, {
      name: `bench-${variant}`,
      grantTypes: ['CLIENT_CREDENTIALS', 'TOKEN_EXCHANGE'],
      scopes: ['api'],
      exchangeIssuers: ['bench'],
      subjectResolution: 'SUBJECT',
    });
    const basic = {
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    };
    const token = (body: string): LoadSpec => ({
      url: bk.url,
      method: 'POST',
      path: '/oauth2/token',
      headers: basic,
      body,
      serverPids,
    });
    const cc = token('grant_type=client_credentials&scope=api');
    await probe(cc, isTokenResponse);
    await this.measure(variant, '7 client credentials', cc, TARGETS.clientCredentials);

    const subjects = await signAll(
      this.issuer,
      Array.from({ length: DISTINCT_TOKENS }, (_, i) => `distinct-${variant}-${i}`),
    );
    const bodies = subjects.map((t) =>
      new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: t,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      }).toString(),
    );
    const exchange: LoadSpec = { ...token(bodies[0]), perRequestBody: rotate(bodies) };
    await probe(exchange, isTokenResponse);
    await this.measure(variant, '8 token exchange', exchange, undefined);
    await this.codeScenario(variant, bk, serverPids, admin);
  }

  /**
   * 9: authorization-code exchanges (issue 9): a public client redeems codes with its PKCE verifier
   * and gets an access token and an ID token (two signatures, one grant row, the code marked used).
   * Every code is used once: they are stored beforehand in the node's database, more than the run
   * can redeem.
   */
  private async codeScenario(
    variant: string,
    bk: Bridgekeeper,
    serverPids: number[],
    admin: string,
  ) {
    const redirectUri = 'http://127.0.0.1/cb';
    const client = await registerClient(bk.url, admin, {
      name: `bench-spa-${variant}`,
      grantTypes: ['AUTHORIZATION_CODE'],
      scopes: ['openid'],
      tokenEndpointAuthMethod: 'NONE',
      redirectUris: [redirectUri],
    });
    const verifier = randomBytes(32).toString('base64url');
    const prefix = `bka_bench_${variant}_`;
    await seedAuthorizationCodes(bk, {
      clientId: client.clientId,
      redirectUri,
      challenge: createHash('sha256').update(verifier).digest('base64url'),
      prefix,
      count: CODES,
    });
    const bodies = Array.from({ length: CODES }, (_, i) =>
      new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: client.clientId,
        code: `${prefix}${i}`,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      }).toString(),
    );
    const next = rotate(bodies);
    const spec: LoadSpec = {
      url: bk.url,
      method: 'POST',
      path: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: bodies[0],
      perRequestBody: next,
      serverPids,
    };
    await probe(
      spec,
      (b) => isTokenResponse(b) && typeof (b as { id_token?: unknown }).id_token === 'string',
    );
    await this.measure(variant, '9 authorization code', spec, undefined);
  }

  userinfoIdp?: UserinfoIdp;

  private async userinfoScenarios(
    variant: string,
    bk: Bridgekeeper,
    serverPids: number[],
    idp: UserinfoIdp,
  ): Promise<void> {
    const token = `opaque-${variant}-${Date.now()}`;
    const cached: LoadSpec = {
      url: bk.url,
      path: '/oauth2/userinfo',
      headers: bearer(token),
      serverPids,
    };
    cached.expectBody = await probe(cached, isUserinfo);
    await this.measure(variant, '5 userinfo issuer, cached token', cached, undefined);
    if (idp.calls(token) !== 1) {
      this.rows[this.rows.length - 1].problem =
        `the IdP was called ${idp.calls(token)} times for one token`;
    }

    // Bursts: BURSTS new tokens, each sent by BURST_SIZE concurrent requests at once.
    const tokens = Array.from({ length: BURSTS }, (_, i) => `burst-${variant}-${Date.now()}-${i}`);
    const started = performance.now();
    let failed = 0;
    for (const t of tokens) {
      const answers = await Promise.all(
        Array.from({ length: BURST_SIZE }, () =>
          fetch(`${bk.url}/oauth2/userinfo`, { headers: bearer(t) }).then(async (r) => {
            await r.arrayBuffer();
            return r.status;
          }),
        ),
      );
      failed += answers.filter((s) => s !== 200).length;
    }
    const seconds = (performance.now() - started) / 1000;
    const calls = tokens.reduce((n, t) => n + idp.calls(t), 0);
    console.log(
      `  ${variant} / 6 userinfo bursts: ${BURSTS} new tokens × ${BURST_SIZE} concurrent requests: ` +
        `${calls} IdP calls (one per token expected), ${failed} failed, ${seconds.toFixed(2)} s`,
    );
    this.bursts.push({
      variant,
      tokens: BURSTS,
      requestsPerToken: BURST_SIZE,
      idpCalls: calls,
      failed,
      seconds,
    });
    if (calls !== BURSTS || failed > 0) {
      const last = this.rows[this.rows.length - 1];
      last.problem = `userinfo bursts: ${calls} IdP calls for ${BURSTS} tokens, ${failed} failed answers`;
      last.verdict = verdictOf(last);
    }
  }

  readonly bursts: {
    variant: string;
    tokens: number;
    requestsPerToken: number;
    idpCalls: number;
    failed: number;
    seconds: number;
  }[] = [];

  private async firstLogins(variant: string, bk: Bridgekeeper, serverPids: number[]) {
    const scenario = '4 first logins';
    process.stdout.write(`  ${variant} / ${scenario}: signing ${FIRST_LOGINS} tokens… `);
    const run = `${variant}-${Date.now()}`;
    const subjects = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => `${prefix}-${run}-${i}`);
    const warmup = await signAll(this.issuer, subjects('warmup', FIRST_LOGINS_WARMUP));
    // A few spare tokens: never needed (autocannon sends exactly `amount`), but never a repeat either.
    const tokens = await signAll(this.issuer, subjects('first', FIRST_LOGINS + CONNECTIONS));
    const spec = (list: string[]): LoadSpec => {
      const next = rotate(list);
      return {
        url: bk.url,
        path: '/oauth2/userinfo',
        perRequest: () => bearer(next()),
        serverPids,
      };
    };
    await runLoad(spec(warmup), { amount: FIRST_LOGINS_WARMUP });
    const before = await countActors(bk);
    const ceiling = await this.ceilingSlice();
    const result = await runLoad(spec(tokens), { amount: FIRST_LOGINS });
    const created = (await countActors(bk)) - before;
    const actorsPerSecond = created / result.seconds;
    process.stdout.write(
      `${created} actors in ${result.seconds.toFixed(1)} s = ${Math.round(actorsPerSecond)}/s\n`,
    );
    const row = this.row(variant, scenario, [result], TARGETS.firstLogins, {
      ceilingRps: ceiling.rps,
      ratio: result.rps / ceiling.rps,
      actorsCreated: created,
      actorsPerSecond,
    });
    if (!row.problem && created !== result.ok) {
      row.problem = `${result.ok} answers were 200 but ${created} actors were created`;
      row.verdict = verdictOf(row);
    }
    this.rows.push(row);
  }

  ceilingRow(): Row {
    const row = this.row('node:http', 'ceiling', this.ceilingRuns, undefined, {});
    return { ...row, ceilingRps: row.rps, ratio: 1 };
  }
}

/** Registers an OAuth client through GraphQL as the bench admin; returns its id and secret. */
async function registerClient(
  url: string,
  adminToken: string,
  input: Record<string, unknown>,
): Promise<{ clientId: string; clientSecret: string }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { ...bearer(adminToken), 'content-type': 'application/json' },
    body: JSON.stringify({
      query:
        'mutation($input: CreateClientInput!) { createClient(input: $input) { client { clientId } clientSecret } }',
      variables: { input },
    }),
  });
  const body = (await res.json()) as {
    data?: { createClient: { client: { clientId: string }; clientSecret: string } };
    errors?: unknown;
  };
  if (!body.data) throw new Error(`createClient failed: ${JSON.stringify(body.errors)}`);
  return {
    clientId: body.data.createClient.client.clientId,
    clientSecret: body.data.createClient.clientSecret,
  };
}

function isTokenResponse(body: unknown): boolean {
  const b = body as { access_token?: unknown; token_type?: unknown };
  return typeof b?.access_token === 'string' && b.token_type === 'Bearer';
}

/** One request before measuring: it must be 2xx with the expected body, or the scenario is pointless. */
async function probe(spec: LoadSpec, check: (body: unknown) => boolean): Promise<string> {
  const res = await fetch(spec.url + spec.path, {
    method: spec.method ?? 'GET',
    headers: { ...spec.headers, ...spec.perRequest?.() },
    body: spec.perRequestBody?.() ?? spec.body,
  });
  const text = await res.text();
  let ok = res.ok;
  try {
    ok &&= check(JSON.parse(text));
  } catch {
    ok = false;
  }
  if (!ok) throw new Error(`${spec.method ?? 'GET'} ${spec.path}: ${res.status} ${text}`);
  return text;
}

const isUserinfo = (b: unknown) => typeof (b as { sub?: unknown }).sub === 'string';
const isGraphqlMe = (b: unknown) => {
  const r = b as { data?: { me?: { id?: unknown } }; errors?: unknown };
  return r.errors === undefined && typeof r.data?.me?.id === 'string';
};

/** One userinfo call per token, 50 at a time; every one must succeed. */
async function createActors(url: string, tokens: string[]): Promise<void> {
  for (let i = 0; i < tokens.length; i += 50) {
    await Promise.all(
      tokens.slice(i, i + 50).map(async (t) => {
        const res = await fetch(`${url}/oauth2/userinfo`, { headers: bearer(t) });
        const text = await res.text();
        if (!res.ok) throw new Error(`creating actors: ${res.status} ${text}`);
      }),
    );
  }
}

function gitRevision(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT })
      .toString()
      .trim();
    return dirty ? `${rev} (src modified)` : rev;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  pinSelf();
  const started = new Date();
  console.log(
    `bench: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SLICES} × ${SLICE_SECONDS} s per scenario, ` +
      (pinned
        ? 'servers pinned to core 1, load generator to core 0'
        : 'NOT pinned (no taskset or fewer than 2 cores): ratios are less meaningful'),
  );
  const issuer = await startIssuer();
  const ceilingServer = await startStaticJson('ceiling (node:http)', CEILING_BODY);
  const ceiling: LoadSpec = {
    url: ceilingServer.url,
    path: '/',
    serverPids: [ceilingServer.child.pid],
  };
  await runLoad(ceiling, { seconds: WARMUP_SECONDS });
  const bench = new Bench(ceiling, issuer);
  const userinfoIdp = await startUserinfoIdp();
  bench.userinfoIdp = userinfoIdp;

  const variants: { name: string; redis: boolean }[] = [
    { name: 'embedded', redis: false },
    { name: 'redis', redis: true },
  ];
  const skipped: string[] = [];
  for (const v of variants) {
    if (v.redis && !hasRedis()) {
      console.warn(
        `redis-server not found: skipping the "${v.name}" variant (apt-get install redis-server)`,
      );
      skipped.push(v.name);
      continue;
    }
    const redis = v.redis ? await startRedis() : undefined;
    console.log(`${v.name}: starting Bridgekeeper${redis ? ` with ${redis.url}` : ''}…`);
    const bk = await startBridgekeeper(`bridgekeeper (${v.name})`, issuer, redis?.url, userinfoIdp);
    const serverPids = [bk.child.pid, ...(redis ? [redis.child.pid] : [])];
    await bench.scenarios(v.name, bk, serverPids);
    await stop(bk.child);
    if (redis) await stop(redis.child);
  }

  const ceilingRow = bench.ceilingRow();
  const rows = [ceilingRow, ...bench.rows];
  console.log();
  console.log(formatTable(rows));
  const ceilings = bench.ceilingRuns.map((r) => Math.round(r.rps));
  console.log(
    `ceiling slices: ${Math.min(...ceilings)}–${Math.max(...ceilings)} req/s (median ${Math.round(ceilingRow.rps)}); ` +
      `ceiling server CPU ${Math.round(ceilingRow.serverCpu)} %, load generator ${Math.round(ceilingRow.loadCpu)} %`,
  );
  const noisy = rows.filter((r) => r.otherCpu > 20);
  if (noisy.length > 0) {
    console.warn(
      `warning: other processes on this machine used more than 20 % of a core during ` +
        noisy.map((r) => `${r.variant} / ${r.scenario}`).join(', ') +
        ': those numbers are skewed (a busy machine slows the ceiling, which is limited by both ' +
        'cores, more than the scenario, so the ratios look better than they are). Run again when ' +
        'the machine is quiet.',
    );
  }
  if (ceilingRow.serverCpu < 85) {
    console.warn(
      `warning: the ceiling server used only ${Math.round(ceilingRow.serverCpu)} % of its core: it was ` +
        'not saturated (load generator too slow, or the cores shared with other work), which ' +
        'flatters every ratio.',
    );
  }
  if (skipped.length) console.warn(`skipped variants: ${skipped.join(', ')}`);

  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  const results = {
    date: started.toISOString(),
    revision: gitRevision(),
    node: process.version,
    cpu: cpus()[0]?.model,
    pinned,
    connections: CONNECTIONS,
    warmupSeconds: WARMUP_SECONDS,
    slices: SLICES,
    sliceSeconds: SLICE_SECONDS,
    firstLogins: FIRST_LOGINS,
    ceilingSlices: ceilings,
    userinfoBursts: bench.bursts,
    skipped,
    rows,
  };
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  console.log(`results written to ${file}`);

  await userinfoIdp.stop();
  await cleanup();
  const broken = rows.filter((r) => r.problem);
  for (const r of broken) console.error(`FAILED: ${r.variant} / ${r.scenario}: ${r.problem}`);
  return broken.length > 0 ? 1 : 0;
}

runWithCleanup(main);
