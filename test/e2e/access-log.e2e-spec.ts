import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';
import { counter } from '../support/metrics';

// The access log (`bridgekeeper.log.access`): one `request` line per request by default, with the
// request id, method, route pattern, status and duration, and nothing a caller sent (no header, no
// query string, no token); `errors` logs only answers >= 400, `sample:N` those and 1 in N of the rest.
// Metrics count every request whatever is logged, and security events are not access-log lines: a
// refused token is still logged under `errors`.
jest.setTimeout(60_000);
const AUD = 'bk-access-log';

interface Line {
  msg: string;
  reqId?: string;
  method?: string;
  route?: string;
  status?: number;
  ms?: number;
  [k: string]: unknown;
}

const requestLines = (bk: RunningBridgekeeper): Line[] =>
  bk.logs.map((l) => JSON.parse(l) as Line).filter((l) => l.msg === 'request');

async function waitForLines(bk: RunningBridgekeeper, n: number): Promise<Line[]> {
  for (let i = 0; i < 50 && requestLines(bk).length < n; i++)
    await new Promise((r) => setTimeout(r, 20));
  return requestLines(bk);
}

describe('access log', () => {
  let stub: JwksStub;
  const nodes: RunningBridgekeeper[] = [];
  const tokens: string[] = [];

  const start = async (access?: string) => {
    const bk = await startBridgekeeper({
      issuers: [{ name: 'stub', issuer: stub.issuer, jwks: stub.jwksUrl, audiences: AUD }],
      properties: access === undefined ? {} : { 'bridgekeeper.log.access': access },
    });
    nodes.push(bk);
    return bk;
  };
  const token = async (sub: string) => {
    const t = await stub.token(AUD, { sub });
    tokens.push(t);
    return t;
  };

  beforeAll(async () => {
    stub = await JwksStub.start();
  });

  afterAll(async () => {
    try {
      for (const bk of nodes) {
        const logs = bk.logs.join('\n');
        expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
        for (const t of tokens) expect(logs).not.toContain(t.split('.')[2]);
      }
    } finally {
      await Promise.all(nodes.map((bk) => bk.close()));
      await stub?.stop();
    }
  });

  it('logs every request by default: id, method, route pattern, status, duration, and nothing sent', async () => {
    const bk = await start();
    const t = await token('logged');
    const ok = await bk.get('/oauth2/userinfo?secret=query-value', t, {
      'x-request-id': 'req-logged-1',
    });
    expect(ok.status).toBe(200);
    const refused = await bk.get('/oauth2/userinfo', 'not-a-token', {
      'x-request-id': 'req-bad-1',
    });
    expect(refused.status).toBe(401);
    const lines = await waitForLines(bk, 2);
    const byId = (id: string) => lines.find((l) => l.reqId === id);
    expect(byId('req-logged-1')).toMatchObject({
      method: 'GET',
      route: '/oauth2/userinfo',
      status: 200,
      level: 'info',
    });
    expect(typeof byId('req-logged-1')?.ms).toBe('number');
    expect(byId('req-bad-1')).toMatchObject({ route: '/oauth2/userinfo', status: 401 });
    // Only our own fields: no headers, no URL with its query string.
    expect(Object.keys(byId('req-logged-1')!).sort()).toEqual(
      ['level', 'method', 'ms', 'msg', 'reqId', 'route', 'service', 'status', 'time'].sort(),
    );
    expect(bk.logs.join('\n')).not.toContain('query-value');
  });

  it('errors: logs only answers >= 400, still counts every request in /metrics, keeps security events', async () => {
    const bk = await start('errors');
    const t = await token('quiet');
    const before = await counter(bk, 'bridgekeeper_http_requests_total', {
      route: '/oauth2/userinfo',
      status: '200',
    });
    for (let i = 0; i < 3; i++) expect((await bk.get('/oauth2/userinfo', t)).status).toBe(200);
    const bad = `${t.slice(0, t.lastIndexOf('.') + 1)}${Buffer.alloc(256, 1).toString('base64url')}`;
    expect((await bk.get('/oauth2/userinfo', bad, { 'x-request-id': 'req-err-1' })).status).toBe(
      401,
    );
    const lines = await waitForLines(bk, 1);
    expect(lines.map((l) => l.status)).toEqual([401]);
    expect(lines[0].reqId).toBe('req-err-1');
    expect(
      await counter(bk, 'bridgekeeper_http_requests_total', {
        route: '/oauth2/userinfo',
        status: '200',
      }),
    ).toBe(before + 3);
    // The refusal's own line (a security event, with its reason) is there, without the token.
    const refusal = bk.logs
      .map((l) => JSON.parse(l) as Line)
      .find((l) => l.msg === 'request refused' && l.reqId === 'req-err-1');
    expect(refusal).toMatchObject({ reason: expect.any(String) });
  });

  it('sample:N logs errors and 1 in N of the other requests', async () => {
    const bk = await start('sample:3');
    const t = await token('sampled');
    for (let i = 0; i < 9; i++) expect((await bk.get('/oauth2/userinfo', t)).status).toBe(200);
    expect((await bk.get('/oauth2/userinfo')).status).toBe(401);
    const lines = await waitForLines(bk, 4);
    expect(lines.filter((l) => l.status === 200)).toHaveLength(3);
    expect(lines.filter((l) => l.status === 401)).toHaveLength(1);
  });

  it('refuses an unknown access-log setting at start-up', async () => {
    await expect(start('sometimes')).rejects.toThrow(/bridgekeeper\.log\.access/);
  });
});
