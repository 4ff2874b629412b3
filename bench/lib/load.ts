import autocannon from 'autocannon';
import { machineBusySeconds, treeCpuSeconds } from './processes';

/** What to send: fixed, or with headers chosen per request (then autocannon rebuilds each request). */
export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Every response body must equal this (autocannon counts the others as mismatches). */
  expectBody?: string;
  /** Headers for each request, e.g. a different token each time, shared by all connections. */
  perRequest?: () => Record<string, string>;
  /** A body for each request (e.g. a different subject token each time), shared by all connections. */
  perRequestBody?: () => string;
  /** Processes (roots of process trees) whose CPU time is the server's. */
  serverPids: number[];
}

export interface LoadRun {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  ok: number;
  /** Non-2xx answers, connection errors, timeouts and body mismatches. */
  failed: number;
  statusCodes: Record<string, number>;
  seconds: number;
  /** Server CPU (its whole process tree) and load generator CPU, in % of one core; NaN if unknown. */
  serverCpu: number;
  loadCpu: number;
  /** CPU used by everything else on the machine meanwhile (other jobs skew the numbers), % of one core. */
  otherCpu: number;
}

export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

export async function runLoad(
  spec: LoadSpec,
  limit: { seconds: number } | { amount: number },
): Promise<LoadRun> {
  const fixed = {
    method: spec.method ?? 'GET',
    ...(spec.headers ? { headers: spec.headers } : {}),
    ...(spec.body !== undefined ? { body: spec.body } : {}),
  } satisfies Partial<autocannon.Options>;
  const perRequest = spec.perRequest;
  const perRequestBody = spec.perRequestBody;
  const amount = 'amount' in limit ? limit.amount : undefined;
  // autocannon notices the end of an `amount` only on its next 1 s tick: the run really ends with the
  // last answer, which is timed here.
  let lastAnswer = 0;
  // A fixed request goes in the top-level options (autocannon builds it once, and can check bodies);
  // per-request headers need a `requests` entry with setupRequest (rebuilt on every request).
  const what: Partial<autocannon.Options> =
    perRequest || perRequestBody || amount !== undefined
      ? {
          requests: [
            {
              ...fixed,
              path: spec.path,
              ...(perRequest || perRequestBody
                ? {
                    setupRequest: (req: autocannon.Request) => ({
                      ...req,
                      ...(perRequest ? { headers: { ...req.headers, ...perRequest() } } : {}),
                      ...(perRequestBody ? { body: perRequestBody() } : {}),
                    }),
                  }
                : {}),
              ...(amount !== undefined
                ? { onResponse: () => void (lastAnswer = performance.now()) }
                : {}),
            },
          ],
        }
      : { ...fixed, ...(spec.expectBody !== undefined ? { expectBody: spec.expectBody } : {}) };
  const busy0 = machineBusySeconds();
  const cpu0 = treeCpuSeconds(spec.serverPids);
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await autocannon({
    // The path goes in the URL for a fixed request, in the `requests` entry otherwise.
    url: 'requests' in what ? spec.url : spec.url + spec.path,
    connections: CONNECTIONS,
    ...('seconds' in limit ? { duration: limit.seconds } : { amount: limit.amount }),
    ...what,
  });
  const wall = (performance.now() - t0) / 1000;
  const seconds = amount !== undefined && lastAnswer > t0 ? (lastAnswer - t0) / 1000 : wall;
  const cpu1 = treeCpuSeconds(spec.serverPids);
  const busy1 = machineBusySeconds();
  const self = process.cpuUsage(self0);
  const percent = (cpuSeconds: number) => (cpuSeconds / seconds) * 100;
  const serverSeconds = cpu0 === undefined || cpu1 === undefined ? NaN : cpu1 - cpu0;
  const selfSeconds = (self.user + self.system) / 1e6;
  const statusCodes: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = s.count ?? 0;
  return {
    // Successful answers per second over the whole run.
    rps: r['2xx'] / seconds,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    ok: r['2xx'],
    // A non-2xx answer also counts as a body mismatch when a body is expected: count it once.
    failed: r.non2xx + r.errors + r.timeouts + Math.max(0, r.mismatches - r.non2xx),
    statusCodes,
    seconds,
    serverCpu: percent(serverSeconds),
    loadCpu: percent(selfSeconds),
    otherCpu:
      busy0 === undefined || busy1 === undefined
        ? NaN
        : Math.max(0, percent(busy1 - busy0 - serverSeconds - selfSeconds)),
  };
}
