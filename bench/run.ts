import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { type LocalIssuer, signAll, startIssuer } from './lib/issuer';
import { CONNECTIONS, type LoadRun, type LoadSpec, runLoad, wrkScript } from './lib/load';
import {
  cleanup,
  type Child,
  pinned,
  pinSelf,
  rssMiB,
  runWithCleanup,
  threadCpuSeconds,
  stop,
} from './lib/processes';
import { formatGroups, formatProfile, type ProfileSummary, summarizeProfile } from './lib/profile';
import { fixed, formatTable, type Row, type Target, verdictOf } from './lib/report';
import {
  BENCH_ADMIN,
  type Bridgekeeper,
  countActors,
  hasRedis,
  seedAuthorizationCodes,
  PROFILE_HOOK,
  startBridgekeeper,
  startRedis,
} from './lib/services';
import { type LoginTally, seedLocalAccounts, startLogins } from './lib/logins';
import { startStaticJson } from './lib/static-server';
import { startUserinfoIdp, type UserinfoIdp } from './lib/userinfo-idp';

// `npm run bench [-- --quick] [-- --redis | --no-redis] [-- --profile]`: Bridgekeeper against a bare
// node:http server (the ceiling) and a bare NestJS-on-Fastify route (the framework floor), with wrk,
// server pinned to core 0 and wrk to core 1. See bench/README.md. Every scenario slice comes right
// after a ceiling slice in the same round; the ratio reported is the median of the per-round ratios,
// so a machine that changes speed during the run (shared VMs do) does not decide the outcome.

const ROOT = join(__dirname, '..');
const ARGS = new Set(process.argv.slice(2));
const QUICK = ARGS.has('--quick') || process.env.BENCH_QUICK === '1';
const PROFILE = ARGS.has('--profile') || process.env.BENCH_PROFILE === '1';
const num = (name: string, full: number, quick: number) =>
  Number(process.env[name] ?? (QUICK ? quick : full));
const ROUNDS = num('BENCH_ROUNDS', 3, 3);
const SLICE_SECONDS = num('BENCH_SLICE_SECONDS', 5, 2);
const WARMUP_SECONDS = num('BENCH_WARMUP_SECONDS', 3, 1);
const PROFILE_SECONDS = num('BENCH_PROFILE_SECONDS', 5, 3);
/** First logins: a slice this long, with enough never-seen tokens for this many actors per second. */
const FIRST_LOGIN_SECONDS = num('BENCH_FIRST_LOGIN_SECONDS', 3, 2);
const FIRST_LOGIN_MAX_RATE = num('BENCH_FIRST_LOGIN_MAX_RATE', 6000, 5000);
const DISTINCT_TOKENS = 1000;
/** Authorization codes prepared per slice: enough for this many exchanges per second. */
const CODE_MAX_RATE = num('BENCH_CODE_MAX_RATE', 3000, 3000);
/** Concurrent password logins while userinfo is measured (issue 9 §5). */
const LOGINS = num('BENCH_LOGINS', 50, 50);
/** More than this share of failed answers makes the run fail: a benchmark of 401s is worthless. */
const MAX_FAILED_SHARE = 0.01;
/** BENCH_ONLY=<regular expression>: only the scenarios whose name matches (the ceiling always runs). */
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
const selected = (name: string) => !ONLY || ONLY.test(name);
const REDIS = ARGS.has('--redis') ? true : ARGS.has('--no-redis') ? false : !QUICK;

const TARGETS = {
  repeated: { kind: 'ratio', min: 0.45 },
  distinct: { kind: 'ratio', min: 0.4 },
  graphql: { kind: 'ratio', min: 0.25 },
  firstLogins: { kind: 'actors/s', min: 3000 },
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
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** One measured scenario: a rate scenario (fixed spec) or first logins (fresh tokens every slice). */
interface Scenario {
  variant: string;
  name: string;
  target?: Target;
  /** The spec of the next slice (and its prepared wrk script). */
  next(): { spec: LoadSpec; script: string };
  /** First logins: counts actors around each slice. */
  firstLogins?: { bk: Bridgekeeper; tokensPerSlice: number };
  /** The server's main process, for RSS. */
  mainPid: number;
  /** Load started right before each slice and stopped right after it (password logins). */
  during?: () => { stop(): Promise<LoginTally>; progress(): LoginTally };
  /** One-time values (authorization codes) prepared per slice: more answers than this is a wrap-around. */
  usesUp?: { perSlice: number; what: string };
}

interface Slice {
  run: LoadRun;
  ceiling: LoadRun;
  created?: number;
  logins?: LoginTally;
}

/** A fixed spec: its wrk script is generated once. */
function fixedScenario(s: Omit<Scenario, 'next'> & { spec: LoadSpec }): Scenario {
  const script = wrkScript(s.spec);
  return { ...s, next: () => ({ spec: s.spec, script }) };
}

class Bench {
  readonly scenarios: Scenario[] = [];
  readonly slices = new Map<Scenario, Slice[]>();
  readonly ceilingRuns: LoadRun[] = [];
  readonly rss: Record<string, { started: number; idle: number; afterRounds: number[] }> = {};
  /** RSS right after each server started (before any request), MiB. */
  readonly startedRss: Record<string, number> = {};
  readonly profiles: string[] = [];
  private readonly profileCount = new Map<number, number>();
  readonly profileSummaries: { label: string; summary: ProfileSummary }[] = [];
  private readonly ceilingScript: string;

  constructor(
    readonly ceiling: LoadSpec,
    readonly issuer: LocalIssuer,
    readonly userinfoIdp: UserinfoIdp,
  ) {
    this.ceilingScript = wrkScript(ceiling);
  }

  ceilingSlice(seconds = SLICE_SECONDS): Promise<LoadRun> {
    return runLoad(this.ceiling, seconds, this.ceilingScript).then((r) => {
      this.ceilingRuns.push(r);
      return r;
    });
  }

  /** Prepares (and probes) the scenarios of one running Bridgekeeper; returns them in order. */
  async prepare(variant: string, bk: Bridgekeeper, serverPids: number[]): Promise<Scenario[]> {
    const mainPid = bk.child.pid;
    const added: Scenario[] = [];
    const add = (s: Scenario) => {
      if (!selected(s.name)) return;
      added.push(s);
      this.scenarios.push(s);
    };
    const userinfo = (headers: Record<string, string>): LoadSpec => ({
      url: bk.url,
      path: '/oauth2/userinfo',
      headers,
      serverPids,
    });

    // 1. The same valid token on every request.
    const token = await this.issuer.sign(`repeated-${variant}`);
    const repeated = userinfo(bearer(token));
    await probe(repeated, isUserinfo);
    add(
      fixedScenario({
        variant,
        name: '1 userinfo, one token repeated',
        spec: repeated,
        target: TARGETS.repeated,
        mainPid,
      }),
    );

    // 2. 1000 distinct tokens of existing actors, a different one on each request (all connections
    //    share one rotation). The actors are created first, one userinfo call per token.
    const tokens = await signAll(
      this.issuer,
      Array.from({ length: DISTINCT_TOKENS }, (_, i) => `distinct-${variant}-${i}`),
    );
    await createActors(bk.url, tokens);
    const distinct: LoadSpec = {
      ...userinfo({}),
      rotateHeader: { name: 'Authorization', values: tokens.map((t) => `Bearer ${t}`) },
    };
    await probe(distinct, isUserinfo);
    add(
      fixedScenario({
        variant,
        name: `2 userinfo, ${DISTINCT_TOKENS} distinct tokens`,
        spec: distinct,
        target: TARGETS.distinct,
        mainPid,
      }),
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
    await probe(graphql, isGraphqlMe);
    add(
      fixedScenario({
        variant,
        name: '3 GraphQL { me { id } }',
        spec: graphql,
        target: TARGETS.graphql,
        mainPid,
      }),
    );

    // 4. First logins: every request a never-seen subject; tokens for every round signed up front
    //    (signing is the benchmark's work, not the server's), plus a warm-up.
    if (selected('4 first logins')) add(await this.firstLoginScenario(variant, bk, serverPids));

    // 5. The userinfo-validated issuer (issue 3): a cached opaque token.
    const opaque = `opaque-${variant}-${Date.now()}`;
    const cached = userinfo(bearer(opaque));
    await probe(cached, isUserinfo);
    add(fixedScenario({ variant, name: '5 userinfo issuer, cached token', spec: cached, mainPid }));
    this.opaqueTokens.set(variant, opaque);

    // 7-8. Bridgekeeper as an OAuth provider (issue 4).
    for (const s of await this.oauthScenarios(variant, bk, serverPids, tokens)) add(s);

    // 9. Authorization-code exchanges (issue 9 §5), each code once.
    if (selected('9 authorization-code exchanges'))
      add(await this.codeScenario(variant, bk, serverPids));

    // 10. Userinfo (the token of scenario 1) while LOGINS password logins run (issue 9 §5): argon2 must
    //     not stall the hot path. Compare its p99 and req/s with scenario 1's.
    const loginsName = `10 userinfo, one token, during ${LOGINS} logins`;
    if (!selected(loginsName)) return added;
    const usernames = await seedLocalAccounts(bk, LOGINS);
    const during = () => startLogins(bk.url, usernames);
    // Every loop must sign in at least once (the first hashes also start the hashing threads).
    const check = during();
    for (let i = 0; i < 600 && check.progress().ok + check.progress().failed < LOGINS; i++)
      await new Promise((r) => setTimeout(r, 100));
    const tally = await check.stop();
    if (tally.ok === 0 || tally.failed > 0)
      throw new Error(
        `password logins: ${tally.ok} ok, ${tally.failed} failed: ${tally.firstProblem}`,
      );
    add({
      ...fixedScenario({
        variant,
        name: loginsName,
        spec: repeated,
        mainPid,
      }),
      during,
    });
    return added;
  }

  /**
   * 9: `POST /oauth2/token` `grant_type=authorization_code` by a public client with PKCE, a new code on
   * every request (wrk Lua rotating bodies). The codes are stored beforehand, as `/oauth2/authorize`
   * stores them after a sign-in (seedAuthorizationCodes): the browser step is not what is measured.
   */
  private async codeScenario(
    variant: string,
    bk: Bridgekeeper,
    serverPids: number[],
  ): Promise<Scenario> {
    const admin = await this.issuer.sign(BENCH_ADMIN);
    const redirectUri = 'http://127.0.0.1/bench/callback';
    const { clientId } = await registerClient(bk.url, admin, {
      name: `bench-code-${variant}`,
      grantTypes: ['AUTHORIZATION_CODE'],
      scopes: ['openid'],
      redirectUris: [redirectUri],
      tokenEndpointAuthMethod: 'NONE',
    });
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const perSlice = SLICE_SECONDS * CODE_MAX_RATE;
    const bodiesOf = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, i) =>
        new URLSearchParams({
          grant_type: 'authorization_code',
          code: `${prefix}${i}`,
          redirect_uri: redirectUri,
          code_verifier: verifier,
          client_id: clientId,
        }).toString(),
      );
    const stamp = randomBytes(6).toString('hex');
    const seed = async (prefix: string, count: number) => {
      await seedAuthorizationCodes(bk, { clientId, redirectUri, challenge, prefix, count });
      return bodiesOf(prefix, count);
    };
    const base: LoadSpec = {
      url: bk.url,
      method: 'POST',
      path: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      serverPids,
    };
    await probe(
      { ...base, body: (await seed(`bka_${stamp}probe`, 1))[0] },
      (b) => isTokenResponse(b) && typeof (b as { id_token?: unknown }).id_token === 'string',
    );
    const slices = PROFILE ? 2 : ROUNDS + 1; // + warm-up
    process.stdout.write(`  storing ${perSlice * slices} authorization codes… `);
    const specs: { spec: LoadSpec; script: string }[] = [];
    for (let r = 0; r < slices; r++) {
      const spec: LoadSpec = { ...base, rotateBody: await seed(`bka_${stamp}s${r}x`, perSlice) };
      specs.push({ spec, script: wrkScript(spec) });
    }
    process.stdout.write('done\n');
    let i = 0;
    return {
      variant,
      name: '9 authorization-code exchanges',
      next: () => {
        const next = specs[i++];
        if (!next) throw new Error('authorization codes: more slices than prepared');
        return next;
      },
      usesUp: { perSlice, what: 'authorization codes' },
      mainPid: bk.child.pid,
    };
  }

  readonly opaqueTokens = new Map<string, string>();
  private firstLoginTokens?: Promise<string[][]>;

  /**
   * The first-login tokens of every slice (warm-up and rounds), signed once: every variant has its own
   * database, so the same subjects are new to each.
   */
  private firstLoginBatches(perSlice: number): Promise<string[][]> {
    this.firstLoginTokens ??= (async () => {
      const slices = PROFILE ? 2 : ROUNDS + 1; // + warm-up
      process.stdout.write(`  signing ${perSlice * slices} first-login tokens… `);
      const t0 = performance.now();
      const stamp = Date.now();
      const batches: string[][] = [];
      for (let r = 0; r < slices; r++) {
        const subjects = Array.from({ length: perSlice }, (_, i) => `first-${stamp}-${r}-${i}`);
        batches.push(await signAll(this.issuer, subjects));
      }
      process.stdout.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      return batches;
    })();
    return this.firstLoginTokens;
  }

  private async firstLoginScenario(
    variant: string,
    bk: Bridgekeeper,
    serverPids: number[],
  ): Promise<Scenario> {
    const perSlice = FIRST_LOGIN_SECONDS * FIRST_LOGIN_MAX_RATE;
    const batches = await this.firstLoginBatches(perSlice);
    const specs = batches.map((b) => {
      const spec: LoadSpec = {
        url: bk.url,
        path: '/oauth2/userinfo',
        rotateHeader: { name: 'Authorization', values: b.map((t) => `Bearer ${t}`) },
        serverPids,
      };
      return { spec, script: wrkScript(spec) };
    });
    let i = 0;
    return {
      variant,
      name: '4 first logins',
      target: TARGETS.firstLogins,
      next: () => specs[i++],
      firstLogins: { bk, tokensPerSlice: perSlice },
      mainPid: bk.child.pid,
    };
  }

  /**
   * 7: client-credentials grants (`POST /oauth2/token`, HTTP Basic); 8: token exchanges (RFC 8693) of
   * the bench issuer's tokens, rotating over the actors of scenario 2. Clients are registered through
   * GraphQL by the bench admin, as an operator would.
   */
  private async oauthScenarios(
    variant: string,
    bk: Bridgekeeper,
    serverPids: number[],
    subjects: string[],
  ): Promise<Scenario[]> {
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
    const bodies = subjects.map((t) =>
      new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: t,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      }).toString(),
    );
    const exchange: LoadSpec = { ...token(bodies[0]), body: undefined, rotateBody: bodies };
    await probe(exchange, isTokenResponse);
    const mainPid = bk.child.pid;
    return [
      fixedScenario({
        variant,
        name: '7 client credentials',
        spec: cc,
        target: TARGETS.clientCredentials,
        mainPid,
      }),
      fixedScenario({ variant, name: '8 token exchange', spec: exchange, mainPid }),
    ];
  }

  /** One slice of a scenario right after one of the ceiling. */
  async slice(s: Scenario, seconds: number): Promise<Slice> {
    const ceiling = await this.ceilingSlice();
    const { spec, script } = s.next();
    const before = s.firstLogins ? await countActors(s.firstLogins.bk) : 0;
    const background = s.during?.();
    const t0 = s.during ? threadCpuSeconds(s.mainPid) : undefined;
    const run = await runLoad(spec, s.firstLogins ? FIRST_LOGIN_SECONDS : seconds, script);
    const t1 = s.during ? threadCpuSeconds(s.mainPid) : undefined;
    const logins = await background?.stop();
    if (logins && t0 && t1) {
      logins.mainThreadCpu = ((t1.main - t0.main) / run.seconds) * 100;
      logins.otherThreadsCpu = ((t1.others - t0.others) / run.seconds) * 100;
    }
    const created = s.firstLogins ? (await countActors(s.firstLogins.bk)) - before : undefined;
    return { run, ceiling, created, logins };
  }

  async warmUp(s: Scenario): Promise<void> {
    const { spec, script } = s.next();
    const background = s.during?.();
    await runLoad(spec, s.firstLogins ? FIRST_LOGIN_SECONDS : WARMUP_SECONDS, script);
    await background?.stop();
  }

  /** ROUNDS rounds; in each, every scenario right after a ceiling slice. */
  async rounds(servers: Record<string, number>): Promise<void> {
    for (const [name, pid] of Object.entries(servers))
      this.rss[name] = {
        started: this.startedRss[name] ?? NaN,
        idle: rssMiB(pid),
        afterRounds: [],
      };
    process.stdout.write('warm-up…\n');
    await this.ceilingSlice(WARMUP_SECONDS);
    for (const s of this.scenarios) await this.warmUp(s);
    for (let r = 1; r <= ROUNDS; r++) {
      process.stdout.write(`round ${r}/${ROUNDS}:\n`);
      for (const s of this.scenarios) {
        const slice = await this.slice(s, SLICE_SECONDS);
        const list = this.slices.get(s) ?? [];
        list.push(slice);
        this.slices.set(s, list);
        const rate =
          slice.created !== undefined ? slice.created / slice.run.seconds : slice.run.rps;
        console.log(
          `  ${s.variant} / ${s.name}: ${Math.round(rate)}${slice.created !== undefined ? ' actors' : ''}/s ` +
            `(ceiling ${Math.round(slice.ceiling.rps)}/s, ${(slice.run.rps / slice.ceiling.rps).toFixed(2)}×, ` +
            `${Math.round(slice.run.cpuPerRequestUs)} µs/req, of which Node ${Math.round(slice.run.mainCpuPerRequestUs)})`,
        );
      }
      for (const [name, pid] of Object.entries(servers)) {
        this.rss[name].afterRounds.push(rssMiB(pid));
      }
    }
  }

  /** With --profile: one CPU profile per scenario (the server preloaded with the profile hook). */
  async profile(s: Scenario, dir: string, pid: number, label = `${s.variant} / ${s.name}`) {
    // The hook numbers its profiles per server process.
    const n = this.profileCount.get(pid) ?? 0;
    this.profileCount.set(pid, n + 1);
    process.kill(pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 200));
    const { spec, script } = s.next();
    const background = s.during?.();
    const run = await runLoad(spec, PROFILE_SECONDS, script);
    await background?.stop();
    process.kill(pid, 'SIGUSR2');
    const done = join(dir, `${n}.done`);
    for (let i = 0; i < 100 && !existsSync(done); i++) await new Promise((r) => setTimeout(r, 100));
    const summary = summarizeProfile(join(dir, `${n}.cpuprofile`));
    const text = formatProfile(
      `${label} (${Math.round(run.rps)} req/s under the profiler, ${n}.cpuprofile)`,
      summary,
    );
    this.profiles.push(text);
    this.profileSummaries.push({ label, summary });
    console.log(text);
  }

  rows(): Row[] {
    const rows: Row[] = [];
    for (const s of this.scenarios) {
      const slices = this.slices.get(s) ?? [];
      if (slices.length === 0) continue;
      const runs = slices.map((x) => x.run);
      const total = runs.reduce((n, r) => n + r.total, 0);
      const failed = runs.reduce((n, r) => n + r.failed, 0);
      const row: Row = {
        variant: s.variant,
        scenario: s.name,
        rps: median(runs.map((r) => r.rps)),
        p50: median(runs.map((r) => r.p50)),
        p99: median(runs.map((r) => r.p99)),
        ratios: slices.map((x) => x.run.rps / x.ceiling.rps),
        ratio: median(slices.map((x) => x.run.rps / x.ceiling.rps)),
        cpuUs: median(runs.map((r) => r.cpuPerRequestUs)),
        cpuUsMin: Math.min(...runs.map((r) => r.cpuPerRequestUs)),
        nodeCpuUs: median(runs.map((r) => r.mainCpuPerRequestUs)),
        total,
        failed,
        serverCpu: median(runs.map((r) => r.serverCpu)),
        loadCpu: median(runs.map((r) => r.loadCpu)),
        otherCpu: median(runs.map((r) => r.otherCpu)),
        target: s.target,
        verdict: '',
        slices: runs.map((r) => Math.round(r.rps)),
      };
      if (s.firstLogins) {
        const created = slices.map((x) => x.created ?? 0);
        row.actorsCreated = created.reduce((a, b) => a + b, 0);
        row.actorsPerSecond = median(slices.map((x) => (x.created ?? 0) / x.run.seconds));
        if (created.some((c) => c >= s.firstLogins!.tokensPerSlice - CONNECTIONS)) {
          row.note = `first logins: a slice used up its ${s.firstLogins.tokensPerSlice} tokens, so actors/s is a lower bound (raise BENCH_FIRST_LOGIN_MAX_RATE)`;
        }
        // Every 200 is one new actor (give or take the requests in flight when wrk stopped).
        const ok = runs.reduce((n, r) => n + r.ok, 0);
        if (!row.note && Math.abs(row.actorsCreated - ok) > CONNECTIONS * slices.length) {
          row.problem = `${ok} answers were 200 but ${row.actorsCreated} actors were created`;
        }
      }
      const logins = slices.flatMap((x) => (x.logins ? [x.logins] : []));
      if (logins.length > 0) {
        const ok = logins.reduce((n, l) => n + l.ok, 0);
        const bad = logins.reduce((n, l) => n + l.failed, 0);
        const perSecond = median(logins.map((l) => l.ok / l.seconds));
        row.loginsPerSecond = perSecond;
        const cpu = (pick: (l: LoginTally) => number | undefined) =>
          fixed(median(logins.map((l) => pick(l) ?? NaN)));
        row.note =
          `${LOGINS} concurrent password logins: ${fixed(perSecond)} logins/s (median slice), ` +
          `${ok} signed in, ${bad} failed; server's main thread ${cpu((l) => l.mainThreadCpu)} % ` +
          `of a core, its other threads (hashing) ${cpu((l) => l.otherThreadsCpu)} %`;
        if (ok === 0 || bad > ok * MAX_FAILED_SHARE) {
          row.problem = `password logins: ${bad} of ${ok + bad} failed (${logins.find((l) => l.firstProblem)?.firstProblem})`;
        }
      }
      if (s.usesUp && runs.some((r) => r.total >= s.usesUp!.perSlice - CONNECTIONS)) {
        row.note = `a slice used up its ${s.usesUp.perSlice} ${s.usesUp.what}: raise BENCH_CODE_MAX_RATE`;
      }
      if (total === 0 || failed > total * MAX_FAILED_SHARE) {
        row.problem ??= `${failed} of ${total} answers failed`;
      }
      row.verdict = verdictOf(row);
      rows.push(row);
    }
    return rows;
  }

  ceilingRow(): Row {
    const runs = this.ceilingRuns;
    return {
      variant: 'node:http',
      scenario: 'ceiling',
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      ratios: [],
      ratio: 1,
      cpuUs: median(runs.map((r) => r.cpuPerRequestUs)),
      cpuUsMin: Math.min(...runs.map((r) => r.cpuPerRequestUs)),
      nodeCpuUs: median(runs.map((r) => r.mainCpuPerRequestUs)),
      total: runs.reduce((n, r) => n + r.total, 0),
      failed: runs.reduce((n, r) => n + r.failed, 0),
      serverCpu: median(runs.map((r) => r.serverCpu)),
      loadCpu: median(runs.map((r) => r.loadCpu)),
      otherCpu: median(runs.map((r) => r.otherCpu)),
      verdict: '',
      slices: runs.map((r) => Math.round(r.rps)),
    };
  }

  /** 6: bursts of identical new opaque tokens: one IdP call per token (single flight), no failure. */
  async userinfoBursts(variant: string, bk: Bridgekeeper): Promise<string | undefined> {
    const idp = this.userinfoIdp;
    const opaque = this.opaqueTokens.get(variant);
    if (opaque !== undefined && idp.calls(opaque) !== 1) {
      return `the IdP was called ${idp.calls(opaque)} times for one cached token`;
    }
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
    return calls !== BURSTS || failed > 0
      ? `userinfo bursts: ${calls} IdP calls for ${BURSTS} tokens, ${failed} failed answers`
      : undefined;
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
async function probe(spec: LoadSpec, check: (body: unknown) => boolean): Promise<void> {
  const rotating = spec.rotateHeader
    ? { [spec.rotateHeader.name.toLowerCase()]: spec.rotateHeader.values[0] }
    : {};
  const res = await fetch(spec.url + spec.path, {
    method: spec.method ?? 'GET',
    headers: { ...spec.headers, ...rotating },
    body: spec.rotateBody?.[0] ?? spec.body,
  });
  const text = await res.text();
  let ok = res.ok;
  try {
    ok &&= check(JSON.parse(text));
  } catch {
    ok = false;
  }
  if (!ok) throw new Error(`${spec.method ?? 'GET'} ${spec.path}: ${res.status} ${text}`);
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
  const load = loadavg().map((l) => l.toFixed(2));
  console.log(
    `bench${QUICK ? ' (quick)' : ''}: wrk -t1 -c${CONNECTIONS}, ${ROUNDS} rounds of ${SLICE_SECONDS} s slices ` +
      `(first logins ${FIRST_LOGIN_SECONDS} s), each right after a ceiling slice; ` +
      (pinned
        ? 'servers pinned to core 0, wrk and the benchmark to core 1'
        : 'NOT pinned (no taskset or fewer than 2 cores): ratios are less meaningful') +
      `; load average ${load.join(' ')}`,
  );
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const profileRoot = PROFILE ? join(ROOT, 'bench', 'results', `${stamp}-profiles`) : undefined;
  const profileDir = (name: string) => {
    if (!profileRoot) return undefined;
    const d = join(profileRoot, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const issuer = await startIssuer();
  const ceilingServer = await startStaticJson('ceiling (node:http)', CEILING_BODY);
  const ceiling: LoadSpec = {
    url: ceilingServer.url,
    path: '/',
    serverPids: [ceilingServer.child.pid],
  };
  const nestProfile = profileDir('bare-nest');
  const bareNest = await startStaticJson(
    'bare NestJS (Fastify)',
    CEILING_BODY,
    'bare-nest.ts',
    nestProfile ? { BENCH_PROFILE_DIR: nestProfile } : {},
    nestProfile ? ['-r', PROFILE_HOOK] : [],
  );
  const userinfoIdp = await startUserinfoIdp();
  const bench = new Bench(ceiling, issuer, userinfoIdp);
  bench.startedRss['node:http ceiling'] = rssMiB(ceilingServer.child.pid);
  bench.startedRss['bare NestJS'] = rssMiB(bareNest.child.pid);
  const bare = fixedScenario({
    variant: 'bare',
    name: 'NestJS on Fastify, no auth',
    spec: { url: bareNest.url, path: '/', serverPids: [bareNest.child.pid] },
    mainPid: bareNest.child.pid,
  });
  const bareGraphql = fixedScenario({
    variant: 'bare',
    name: 'NestJS + Apollo { me { id } }, no auth',
    spec: {
      url: bareNest.url,
      method: 'POST',
      path: '/graphql',
      headers: { 'content-type': 'application/json' },
      body: GRAPHQL_ME,
      serverPids: [bareNest.child.pid],
    },
    mainPid: bareNest.child.pid,
  });
  await probe(bareGraphql.next().spec, isGraphqlMe);
  bench.scenarios.push(...[bare, bareGraphql].filter((x) => selected(`bare ${x.name}`)));

  const variants: { name: string; redis: boolean; mainJs?: string }[] = [
    { name: 'embedded', redis: false },
  ];
  // BENCH_COMPARE=<another build's main.js>: that build too, as variant "compare", in the same rounds
  // (before/after numbers against the same ceilings).
  if (process.env.BENCH_COMPARE) {
    variants.unshift({ name: 'compare', redis: false, mainJs: process.env.BENCH_COMPARE });
  }
  if (REDIS) {
    if (hasRedis()) variants.push({ name: 'redis', redis: true });
    else console.warn('redis-server not found: skipping the "redis" variant');
  }
  const running: { name: string; bk: Bridgekeeper; children: Child[]; dir?: string }[] = [];
  for (const v of variants) {
    const redis = v.redis ? await startRedis() : undefined;
    console.log(`${v.name}: starting Bridgekeeper${redis ? ` with ${redis.url}` : ''}…`);
    const dir = profileDir(v.name);
    const bk = await startBridgekeeper(`bridgekeeper (${v.name})`, issuer, {
      redisUrl: redis?.url,
      userinfoIdp,
      profileDir: dir,
      mainJs: v.mainJs,
    });
    bench.startedRss[`Bridgekeeper (${v.name})`] = rssMiB(bk.child.pid);
    const serverPids = [bk.child.pid, ...(redis ? [redis.child.pid] : [])];
    running.push({ name: v.name, bk, children: [bk.child, ...(redis ? [redis.child] : [])], dir });
    await bench.prepare(v.name, bk, serverPids);
  }

  const problems: string[] = [];
  if (PROFILE) {
    await bench.ceilingSlice(WARMUP_SECONDS);
    for (const s of bench.scenarios) await bench.warmUp(s);
    for (const b of bench.scenarios.filter((x) => x.variant === 'bare'))
      await bench.profile(b, nestProfile!, bareNest.child.pid);
    for (const r of running)
      for (const s of bench.scenarios.filter((x) => x.variant === r.name))
        await bench.profile(s, r.dir!, r.bk.child.pid);
  } else {
    await bench.rounds({
      'node:http ceiling': ceilingServer.child.pid,
      'bare NestJS': bareNest.child.pid,
      ...Object.fromEntries(running.map((r) => [`Bridgekeeper (${r.name})`, r.bk.child.pid])),
    });
  }
  for (const r of running) {
    const problem = await bench.userinfoBursts(r.name, r.bk);
    if (problem) problems.push(`${r.name}: ${problem}`);
  }
  for (const r of running) for (const c of r.children) await stop(c);

  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  if (PROFILE) {
    const file = join(dir, `${stamp}-profile.md`);
    writeFileSync(
      file,
      `# CPU profiles, ${started.toISOString()}, ${gitRevision()}\n\n` +
        `${formatGroups(bench.profileSummaries)}\n\n${bench.profiles.join('\n')}`,
    );
    console.log(`profile summaries written to ${file} (raw profiles in ${profileRoot})`);
    await userinfoIdp.stop();
    await cleanup();
    return problems.length ? 1 : 0;
  }

  const ceilingRow = bench.ceilingRow();
  const rows = [ceilingRow, ...bench.rows()];
  const table = formatTable(rows);
  const rss = Object.entries(bench.rss)
    .map(
      ([name, r]) =>
        `| ${name} | ${fixed(r.started)} | ${fixed(r.idle)} | ${r.afterRounds.map((x) => fixed(x)).join(' / ')} |`,
    )
    .join('\n');
  const rssTable =
    '| server | RSS started MiB | RSS idle, prepared MiB | RSS after each round MiB |\n' +
    `|---|---:|---:|---:|\n${rss}`;
  const loadEnd = loadavg().map((l) => l.toFixed(2));
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.variant} / ${r.scenario}: ${r.note}`);
  const header =
    `${started.toISOString()}, ${gitRevision()}, node ${process.version}, ${cpus()[0]?.model ?? ''}; ` +
    `wrk -t1 -c${CONNECTIONS}, ${ROUNDS} rounds × ${SLICE_SECONDS} s${QUICK ? ' (quick)' : ''}; ` +
    `${pinned ? 'server on core 0, wrk on core 1' : 'NOT pinned'}; load average ${load.join(' ')} at start, ${loadEnd.join(' ')} at end`;
  const markdown = [header, '', table, '', rssTable, '', ...notes].join('\n') + '\n';
  console.log();
  console.log(markdown);
  const ceilings = bench.ceilingRuns.map((r) => Math.round(r.rps));
  const noisy = rows.filter((r) => r.otherCpu > 20);
  if (noisy.length > 0) {
    console.warn(
      'warning: other processes used more than 20 % of a core during ' +
        noisy.map((r) => `${r.variant} / ${r.scenario}`).join(', ') +
        ': those numbers are skewed. Run again when the machine is quiet.',
    );
  }
  if (ceilingRow.serverCpu < 90) {
    console.warn(
      `warning: the ceiling server used only ${Math.round(ceilingRow.serverCpu)} % of its core: ` +
        'not saturated (wrk too slow, or the cores shared with other work), which flatters every ratio.',
    );
  }
  writeFileSync(join(dir, `${stamp}.md`), markdown);
  const file = join(dir, `${stamp}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: started.toISOString(),
        revision: gitRevision(),
        node: process.version,
        cpu: cpus()[0]?.model,
        pinned,
        quick: QUICK,
        connections: CONNECTIONS,
        rounds: ROUNDS,
        sliceSeconds: SLICE_SECONDS,
        loadAverage: { start: load, end: loadEnd },
        ceilingSlices: ceilings,
        rss: bench.rss,
        problems,
        rows,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`results written to ${file} (and .md)`);

  await userinfoIdp.stop();
  await cleanup();
  const broken = rows.filter((r) => r.problem);
  for (const r of broken) console.error(`FAILED: ${r.variant} / ${r.scenario}: ${r.problem}`);
  for (const p of problems) console.error(`FAILED: ${p}`);
  return broken.length + problems.length > 0 ? 1 : 0;
}

runWithCleanup(main);
