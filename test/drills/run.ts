import { cpus } from 'node:os';
import { AUDIENCE, Cluster } from './cluster';
import { describeLoad, startLoad } from './load';
import { ALL_DRILLS, type DrillOptions, type DrillReport } from './drills';

// npm run drills [-- --quick] [-- --only redis,postgres,jwks,restart,kill]
// Starts a three-node cluster on loopback (embedded PostgreSQL, redis-server, HAProxy, a JWKS stub),
// runs the fault drills against it, prints what each did and saw, and exits 1 if a promise broke.
// Every process it started is stopped at the end, on a failure and on Ctrl-C.

const NAMES: Record<string, (typeof ALL_DRILLS)[number]> = {
  redis: ALL_DRILLS[0],
  postgres: ALL_DRILLS[1],
  jwks: ALL_DRILLS[2],
  restart: ALL_DRILLS[3],
  kill: ALL_DRILLS[4],
};

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyArg = args[args.indexOf('--only') + 1];
  const only = args.includes('--only') && onlyArg ? onlyArg.split(',') : Object.keys(NAMES);
  const unknown = only.filter((n) => !NAMES[n]);
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown drill(s) ${unknown.join(', ')}: use ${Object.keys(NAMES).join(', ')}\n`,
    );
    return 2;
  }
  const log = (line: string) => process.stdout.write(`${line}\n`);
  if (args.includes('--sizing')) return sizing(log);
  const options: DrillOptions = { loadSeconds: quick ? 6 : 30, quick, log };
  log(`fault drills (${quick ? 'quick' : 'full'}): ${only.join(', ')}`);
  const cluster = await Cluster.start(log);
  const stopAll = () => {
    log('interrupted: stopping every process');
    void cluster.stop().then(() => process.exit(130));
  };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  const reports: DrillReport[] = [];
  try {
    for (const name of only) {
      try {
        reports.push(await NAMES[name](cluster, options));
      } catch (err) {
        log(`  ERROR ${(err as Error).message}`);
        reports.push({ name, broken: [`the drill could not run: ${(err as Error).message}`] });
      }
    }
  } finally {
    await cluster.stop();
  }
  log('\n== summary');
  for (const r of reports) log(`  ${r.broken.length === 0 ? 'PASS' : 'FAIL'}  ${r.name}`);
  return reports.every((r) => r.broken.length === 0) ? 0 : 1;
}

/**
 * npm run drills -- --sizing: warm validations (GET /oauth2/userinfo, one cached token) for 15 s
 * against one node directly, then through the balancer to three nodes; what the sizing table is from.
 */
async function sizing(log: (line: string) => void): Promise<number> {
  const cluster = await Cluster.start(log);
  try {
    const token = await cluster.idp.token(AUDIENCE, { sub: 'sizing' });
    for (const [what, url] of [
      ['one node, direct', cluster.nodes[0].url],
      ['three nodes behind HAProxy', cluster.url],
    ] as const) {
      await startLoad({ url, token, seconds: 3, connections: 50 }).done;
      const r = await startLoad({ url, token, seconds: 15, connections: 50 }).done;
      log(`${what}: ${describeLoad(r)}`);
    }
    log(
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load generator on the same machine`,
    );
    return 0;
  } finally {
    await cluster.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`drills failed to start: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
