import { openSync } from 'node:fs';
import pino from 'pino';
import { Counter, Histogram, Registry } from 'prom-client';
import { createLogger } from '../../src/common/logging/logger';
import { createAccessLog } from '../../src/metrics/access-log';
import { MetricsService } from '../../src/metrics/metrics.service';

// node -r @swc-node/register bench/micro/response-hook.ts
// The per-request work of the onResponse hook, before (pino `logger.info` with the logger's redaction,
// prom-client `labels(...).inc()` / `.observe()`) and after (createAccessLog + MetricsService.recordHttp),
// both writing to /dev/null through the same buffered destination as production. Interleaved, best of
// 15 batches each: other work on the machine only ever makes a batch slower.

const N = 50_000;
const dest = () =>
  pino.destination({ dest: openSync('/dev/null', 'w'), sync: false, minLength: 4096 });
const routes = ['/oauth2/userinfo', '/graphql', '/oauth2/token', '/health/ready'];
const ids = Array.from({ length: 64 }, () => crypto.randomUUID());

function before(): (i: number) => void {
  const logger = createLogger('info', dest());
  const registry = new Registry();
  const requests = new Counter({
    name: 'r',
    help: 'r',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'd',
    help: 'd',
    labelNames: ['route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return (i) => {
    const route = routes[i & 3];
    requests.labels({ method: 'GET', route, status: '200' }).inc();
    duration.labels({ route }).observe(0.0012);
    logger.info({ reqId: ids[i & 63], method: 'GET', route, status: 200, ms: 1.2 }, 'request');
  };
}

function after(): (i: number) => void {
  const logger = createLogger('info', dest());
  const metrics = new MetricsService();
  const access = createAccessLog(logger, { sampleEvery: 1 });
  return (i) => {
    const route = routes[i & 3];
    metrics.recordHttp('GET', route, 200, 0.0012);
    access({ reqId: ids[i & 63], method: 'GET', route, status: 200, ms: 1.2 });
  };
}

async function main(): Promise<void> {
  const variants = { before: before(), after: after() };
  const best: Record<string, number> = { before: Infinity, after: Infinity };
  for (let round = 0; round < 15; round++) {
    for (const [name, fn] of Object.entries(variants)) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) {
        fn(i);
        // Let the destination write, as between requests.
        if ((i & 255) === 255) await new Promise((r) => setImmediate(r));
      }
      const ns = Number(process.hrtime.bigint() - t0) / N;
      if (round > 1) best[name] = Math.min(best[name], ns);
    }
  }
  console.log(
    `onResponse work per request (best of 13 × ${N}, event-loop turns included): ` +
      `before ${(best.before / 1000).toFixed(2)} µs, after ${(best.after / 1000).toFixed(2)} µs`,
  );
}

void main();
