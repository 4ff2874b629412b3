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
