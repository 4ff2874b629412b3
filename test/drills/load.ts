import autocannon from 'autocannon';

export interface LoadResult {
  requests: number;
  /** Answers by HTTP status. */
  byStatus: Record<string, number>;
  /** Connection errors (resets, refused) and requests without an answer within the timeout. */
  errors: number;
  timeouts: number;
  worstMs: number;
  p99Ms: number;
  rps: number;
}

export interface Load {
  done: Promise<LoadResult>;
  stop(): void;
}

/**
 * A steady closed-loop load (autocannon) of GET `path` with a bearer token on `url`, for at most
 * `seconds`; every request must answer within `timeoutSeconds` or counts as a timeout.
 */
export function startLoad(options: {
  url: string;
  path?: string;
  token: string;
  seconds: number;
  connections?: number;
  timeoutSeconds?: number;
}): Load {
  let stop = () => {};
  const done = new Promise<LoadResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${options.url}${options.path ?? '/oauth2/userinfo'}`,
        headers: { authorization: `Bearer ${options.token}` },
        connections: options.connections ?? 8,
        duration: options.seconds,
        timeout: options.timeoutSeconds ?? 10,
      },
      (err, r) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        const byStatus: Record<string, number> = {};
        for (const [code, v] of Object.entries(r.statusCodeStats ?? {}))
          byStatus[code] = (v as { count: number }).count;
        resolve({
          requests: Object.values(byStatus).reduce((a, b) => a + b, 0) + r.errors,
          byStatus,
          errors: r.errors,
          timeouts: r.timeouts,
          worstMs: r.latency.max,
          p99Ms: r.latency.p99,
          rps: r.requests.average,
        });
      },
    );
    stop = () => instance.stop();
  });
  return { done, stop: () => stop() };
}

export function describeLoad(r: LoadResult): string {
  const statuses = Object.entries(r.byStatus)
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
  return `${r.requests} requests (${statuses || 'no answers'}; connection errors ${r.errors}, timeouts ${r.timeouts}), ${Math.round(r.rps)} req/s, p99 ${r.p99Ms} ms, worst ${r.worstMs} ms`;
}
