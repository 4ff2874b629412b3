import { Cluster } from '../drills/cluster';
import {
  type DrillOptions,
  jwksDown,
  nodeKilled,
  postgresStopped,
  redisKilled,
  rollingRestart,
} from '../drills/drills';

// Issue 13 §2, the quick variants of the fault drills (test/drills; the full ones: npm run drills):
// three Bridgekeeper processes on one PostgreSQL and one redis-server behind HAProxy
// (deploy/haproxy.cfg), all on loopback, under load from autocannon. Each drill prints what it did and
// saw; a test fails with the promises it found broken.
describe('fault drills, quick (three nodes behind HAProxy)', () => {
  let cluster: Cluster | undefined;
  const lines: string[] = [];
  const options: DrillOptions = {
    loadSeconds: 5,
    quick: true,
    log: (line) => lines.push(line),
  };

  beforeAll(async () => {
    cluster = await Cluster.start(options.log);
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
    process.stdout.write(`${lines.join('\n')}\n`);
  }, 60_000);

  // In this order: the last two take nodes out for good (the quick variant restarts none).
  it.each([
    ['Redis killed under load', redisKilled],
    ['PostgreSQL stopped under load', postgresStopped],
    ['JWKS endpoint down past the refresh interval', jwksDown],
    ['a node restarted with SIGTERM under load loses no request', rollingRestart],
    ['a node killed with SIGKILL mid-load', nodeKilled],
  ])(
    '%s',
    async (_name, drill) => {
      const report = await drill(cluster!, options);
      expect(report.broken).toEqual([]);
    },
    120_000,
  );
});
