import { MetricsService } from 'src/metrics/metrics.service';

// Counters add to plain numbers on the request path and hand them to prom-client when the registry is
// read: every scrape must still see exact totals.
describe('MetricsService counters', () => {
  const sample = async (m: MetricsService, name: string, labels: string) => {
    const text = await m.registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  it('counts exactly across scrapes, per label set', async () => {
    const m = new MetricsService();
    for (let i = 0; i < 3; i++) m.recordHttp('GET', '/oauth2/userinfo', 200, 0.001);
    m.recordHttp('GET', '/oauth2/userinfo', 401, 0.001);
    const ok = 'method="GET",route="/oauth2/userinfo",status="200"';
    expect(await sample(m, 'bridgekeeper_http_requests_total', ok)).toBe(3);
    m.recordHttp('GET', '/oauth2/userinfo', 200, 0.002);
    expect(await sample(m, 'bridgekeeper_http_requests_total', ok)).toBe(4);
    expect(await sample(m, 'bridgekeeper_http_requests_total', ok.replace('200', '401'))).toBe(1);
    expect(
      await sample(
        m,
        'bridgekeeper_http_request_duration_seconds_count',
        'route="/oauth2/userinfo"',
      ),
    ).toBe(5);
  });

  it('keeps the counter API: values, inc(0) creates the series, negative increments refused', async () => {
    const m = new MetricsService();
    m.revocations.inc({ kind: 'token' }, 2);
    m.revocations.inc({ kind: 'token' });
    m.revocations.inc({ kind: 'grant' }, 0);
    expect(await sample(m, 'bridgekeeper_revocations_total', 'kind="token"')).toBe(3);
    expect(await sample(m, 'bridgekeeper_revocations_total', 'kind="grant"')).toBe(0);
    expect(() => m.revocations.inc({ kind: 'token' }, -1)).toThrow(TypeError);
  });
});

describe('MetricsService histogram', () => {
  it('exposes what prom-client’s Histogram exposes for the same observations', async () => {
    const { Histogram, Registry } = await import('prom-client');
    const m = new MetricsService();
    const reference = new Registry();
    const h = new Histogram({
      name: 'bridgekeeper_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [reference],
    });
    for (const [route, v] of [
      ['/a', 0.0005],
      ['/a', 0.001],
      ['/a', 0.3],
      ['/b', 7],
      ['/a', 0.0101],
    ] as const) {
      m.httpDuration.observe({ route }, v);
      h.observe({ route }, v);
    }
    const ours = await m.registry.getSingleMetricAsString(
      'bridgekeeper_http_request_duration_seconds',
    );
    expect(ours).toBe(await reference.metrics().then((t) => t.trimEnd()));
  });
});
