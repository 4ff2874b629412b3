import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { AUDIENCE, Cluster } from './cluster';
import { describeLoad, startLoad } from './load';

// npm run soak [-- --minutes N] [-- --connections C]
// Issue 13 §2: a long run at about 70 % of the measured peak, first against one node, then against
// three nodes behind the balancer (the drills' cluster: embedded PostgreSQL, redis-server, HAProxy or the
// TCP round-robin, a JWKS stub). Warm validations (GET /oauth2/userinfo with valid tokens of several
// actors). Per minute it prints requests, errors, p99 and each node's RSS, sampled every few seconds:
// its lowest and highest value in the minute. Under load RSS swings by 100 MB and more with V8's
// old-generation collections, so one reading a minute says little; a leak raises the floor (the
// lowest reading, after a collection). Exits 1 when any request failed, or when a node's RSS floor grew
// by more than RSS_GROWTH_LIMIT from the second minute (after warm-up) to the last. Every process it
// started is stopped at the end.

const RSS_GROWTH_LIMIT = 0.15;
const TOKENS = 20;
const RSS_SAMPLE_MS = 5_000;

interface Minute {
  minute: number;
  requests: number;
  errors: number;
  p99Ms: number;
  worstMs: number;
  rps: number;
  /** Per node: the lowest and highest RSS sampled during the minute. */
  rssMb: { floor: number; peak: number }[];
}

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return Math.round(kb / 102.4) / 10;
  } catch {
    return NaN;
  }
}

/** One minute of fixed-rate load (autocannon `overallRate`), spread over every token. */
function minuteAtRate(
  url: string,
  tokens: string[],
  rate: number,
  connections: number,
  seconds: number,
): Promise<{ requests: number; errors: number; p99Ms: number; worstMs: number; rps: number }> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}/oauth2/userinfo`,
        connections,
        overallRate: rate,
        duration: seconds,
        timeout: 10,
        requests: tokens.map((t) => ({
          method: 'GET',
          path: '/oauth2/userinfo',
          headers: { authorization: `Bearer ${t}` },
        })),
      },
      (err, r) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        let ok = 0;
        let bad = 0;
        for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) {
          const n = (v as { count: number }).count;
          if (code === '200') ok += n;
          else bad += n;
        }
        resolve({
          requests: ok + bad + r.errors,
          errors: bad + r.errors + r.timeouts,
          p99Ms: r.latency.p99,
          worstMs: r.latency.max,
          rps: r.requests.average,
        });
      },
    );
  });
}

async function phase(
  name: string,
  url: string,
  pids: () => (number | undefined)[],
  tokens: string[],
  minutes: number,
  connections: number,
  log: (line: string) => void,
): Promise<string[]> {
  log(`\n== ${name}`);
  // Warm every token's cache entry, then measure the peak (closed loop, as many as it answers).
  await startLoad({ url, token: tokens[0]!, seconds: 3, connections }).done;
  const peak = await startLoad({ url, token: tokens[0]!, seconds: 10, connections }).done;
  const rate = Math.max(1, Math.round(peak.rps * 0.7));
  log(`peak: ${describeLoad(peak)}`);
  log(`soak: ${minutes} min at ${rate} req/s (70 % of the peak), ${connections} connections`);
  const rows: Minute[] = [];
  for (let m = 1; m <= minutes; m++) {
    const samples: number[][] = [];
    const sample = () => samples.push(pids().map(rssMb));
    const sampler = setInterval(sample, RSS_SAMPLE_MS);
    const r = await minuteAtRate(url, tokens, rate, connections, 60).finally(() =>
      clearInterval(sampler),
    );
    sample();
    const rss = samples[0]!.map((_, i) => {
      const values = samples.map((s) => s[i]!).filter((v) => Number.isFinite(v));
      return { floor: Math.min(...values), peak: Math.max(...values) };
    });
    const row = { minute: m, ...r, rssMb: rss };
    rows.push(row);
    log(
      `  min ${m}: ${r.requests} requests, ${Math.round(r.rps)} req/s, errors ${r.errors}, ` +
        `p99 ${r.p99Ms} ms, worst ${r.worstMs} ms, RSS ${rss.map((x) => `${x.floor}–${x.peak} MB`).join(' / ')}`,
    );
  }
  const broken: string[] = [];
  const errors = rows.reduce((a, r) => a + r.errors, 0);
  if (errors > 0) broken.push(`${name}: ${errors} requests failed`);
  // After the first minute of warm-up (the first minute itself in a run of two minutes or less).
  const base = rows[Math.max(0, Math.min(1, rows.length - 2))]!;
  const last = rows.at(-1)!;
  last.rssMb.forEach(({ floor }, i) => {
    const from = base.rssMb[i]!.floor;
    const growth = (floor - from) / from;
    log(
      `  node ${i + 1} RSS floor ${from} MB in minute ${base.minute} → ${floor} MB in minute ${last.minute} (${(growth * 100).toFixed(1)} %)`,
    );
    if (rows.length >= 2 && growth > RSS_GROWTH_LIMIT)
      broken.push(`${name}: node ${i + 1} RSS floor grew ${(growth * 100).toFixed(1)} %`);
  });
  return broken;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const arg = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    const v = i >= 0 ? Number(args[i + 1]) : fallback;
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
    return v;
  };
  const minutes = Math.round(arg('--minutes', 10));
  const connections = Math.round(arg('--connections', 20));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(
    `soak: ${minutes} min per phase; machine ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load generator on the same machine`,
  );
  const cluster = await Cluster.start(log);
  const stopAll = () => {
    log('interrupted: stopping every process');
    void cluster.stop().then(() => process.exit(130));
  };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  const broken: string[] = [];
  try {
    // Valid for the whole run (both phases, their peaks and a margin): the stub's default is 5 minutes,
    // after which every request of a ten-minute phase would be a 401.
    const expiresIn = (2 * minutes + 10) * 60;
    const tokens = await Promise.all(
      Array.from({ length: TOKENS }, (_, i) =>
        cluster.idp.token(AUDIENCE, { sub: `soak-${i}` }, { expiresIn }),
      ),
    );
    broken.push(
      ...(await phase(
        'one node, direct',
        cluster.nodes[0]!.url,
        () => [cluster.nodes[0]!.child.pid],
        tokens,
        minutes,
        connections,
        log,
      )),
    );
    broken.push(
      ...(await phase(
        `three nodes behind ${cluster.lb.kind}`,
        cluster.url,
        () => cluster.nodes.map((n) => n.child.pid),
        tokens,
        minutes,
        connections,
        log,
      )),
    );
  } finally {
    await cluster.stop();
  }
  log('\n== summary');
  if (broken.length === 0) log('  PASS  no failed request, RSS flat');
  for (const b of broken) log(`  FAIL  ${b}`);
  return broken.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
