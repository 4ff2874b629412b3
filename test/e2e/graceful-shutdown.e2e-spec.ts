import { request as httpRequest } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { createTestDatabase } from '../support/postgres';
import { startNodeProcess, type NodeProcess } from '../support/node-process';
import { UserinfoStub } from '../support/userinfo-stub';

// Issue 13 §1: on SIGTERM a node stops accepting, answers /health/ready 503 at once, finishes the
// requests in flight within bridgekeeper.shutdown.grace.seconds, then closes its pools and exits 0.
// The node is a real child process (signals); a slow userinfo endpoint makes requests that are still
// in flight when the signal arrives.

/** A raw connection and the first answer it receives (the text, once the server closes it). */
function openConnection(port: number): Promise<{ socket: Socket; response: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let text = '';
    const response = new Promise<string>((done) => {
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.once('close', () => done(text));
    });
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, response }));
  });
}

interface Answer {
  status?: number;
  error?: string;
}

/** One GET; the answer's status, or the socket error code (ECONNREFUSED, ECONNRESET, ...). */
function get(url: string, path: string, token?: string): Promise<Answer> {
  return new Promise((resolve) => {
    const req = httpRequest(
      `${url}${path}`,
      { agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        res.resume();
        res.once('end', () => resolve({ status: res.statusCode }));
        res.once('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? 'error' }));
      },
    );
    req.once('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('graceful shutdown (child process node)', () => {
  let idp: UserinfoStub;
  let node: NodeProcess | undefined;
  // Both nodes start together (a child process takes seconds to compile and start): one per test.
  let starting: Promise<NodeProcess>[] = [];

  beforeAll(async () => {
    idp = await UserinfoStub.start();
    starting = [start(10), start(1)];
    // Both are stopped in afterAll, also when a test failed before taking its node.
    await Promise.allSettled(starting);
  }, 180_000);
  let afterThis = () => {};
  afterEach(async () => {
    afterThis();
    await node?.stop(2000);
    node = undefined;
  });
  afterAll(async () => {
    const nodes = await Promise.allSettled(starting);
    for (const n of nodes) if (n.status === 'fulfilled') await n.value.stop(2000);
    await idp.stop();
  });

  const start = async (graceSeconds: number) =>
    startNodeProcess({
      databaseUrl: await createTestDatabase(),
      issuers: [{ name: 'med', issuer: 'https://med.example', userinfo: idp.url, opaque: true }],
      properties: { 'bridgekeeper.shutdown.grace.seconds': String(graceSeconds) },
    });

  it('SIGTERM: ready 503 at once, new connections refused, requests in flight answered, exit 0', async () => {
    node = await starting[0];
    const slow = ['slow-1', 'slow-2', 'slow-3'];
    for (const t of slow) idp.answers.set(t, { status: 200, body: { sub: t }, delayMs: 3000 });
    idp.answers.set('fast', { status: 200, body: { sub: 'fast' } });

    // The balancer's probe, on a connection opened before the signal: its request line and first
    // header are sent, the end of its headers only after the signal.
    const probe = await openConnection(node.port);
    afterThis = () => probe.socket.destroy();
    probe.socket.write('GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n');

    // A steady stream of requests, each on a new connection, running across the signal.
    const stream: Answer[] = [];
    let streaming = true;
    const streamer = (async () => {
      for (let i = 0; streaming && i < 5000; i++) stream.push(await get(node!.url, '/health/live'));
    })();

    const inFlight = slow.map((t) => get(node!.url, '/oauth2/userinfo', t));
    await until(
      'the slow requests to reach the IdP',
      async () => (slow.every((t) => idp.calls(t) === 1) ? true : undefined),
      30_000,
    );

    const signalled = Date.now();
    node.signal('SIGTERM');
    // No new connection is accepted any more (a new probe is refused: not ready either).
    await until(
      'new connections refused',
      async () => ((await refused(node!.port)) ? true : undefined),
      3000,
    );
    // Readiness answers 503 on the connection that was open (the issue: "at once"; asserted with a
    // margin of seconds for this shared machine, the measured time is printed).
    probe.socket.write('\r\n');
    const ready = await probe.response;
    const readyAfterMs = Date.now() - signalled;
    expect(ready).toMatch(/^HTTP\/1\.1 503 /);
    expect(ready).toMatch(/\r\nconnection: close\r\n/i);
    expect(readyAfterMs).toBeLessThan(3000);
    streaming = false;
    await streamer;

    // Every request in flight gets its answer.
    expect(await Promise.all(inFlight)).toEqual(slow.map(() => ({ status: 200 })));
    // The stream saw answers or refused connections. ECONNRESET: a connection the kernel had accepted
    // into the listen queue when the socket closed, before the node read a byte of it (a balancer
    // retries those: HAProxy `retry-on conn-failure empty-response`, deploy/haproxy.cfg).
    const outcomes = new Set(stream.map((a) => a.status ?? a.error));
    for (const o of outcomes) expect([200, 503, 'ECONNREFUSED', 'ECONNRESET']).toContain(o);
    expect(stream.filter((a) => a.status === 200).length).toBeGreaterThan(0);

    const exit = await node.exited;
    const exitAfterMs = Date.now() - signalled;
    expect(exit).toEqual({ code: 0, signal: null });
    // Bound: grace (10 s) plus closing the pools; the slow requests took 3 s.
    expect(exitAfterMs).toBeLessThan(10_000 + 5_000);
    expect(node.logs.some((l) => l.includes('shutting down'))).toBe(true);
    expect(node.logs.some((l) => l.includes('"stopped"'))).toBe(true);
    process.stdout.write(
      `graceful shutdown: ready 503 after ${readyAfterMs} ms, exit after ${exitAfterMs} ms, stream ${JSON.stringify([...outcomes])}\n`,
    );
  });

  it('a request slower than the grace period is cut at the bound and the node still exits 0', async () => {
    node = await starting[1];
    idp.answers.set('very-slow', { status: 200, body: { sub: 'x' }, delayMs: 12_000 });
    const inFlight = get(node.url, '/oauth2/userinfo', 'very-slow');
    await until(
      'the slow request to reach the IdP',
      async () => (idp.calls('very-slow') === 1 ? true : undefined),
      30_000,
    );
    const signalled = Date.now();
    node.signal('SIGTERM');
    const exit = await node.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    // 1 s grace plus closing the pools, far below the 12 s the IdP would have taken.
    expect(Date.now() - signalled).toBeLessThan(1_000 + 8_000);
    expect((await inFlight).error).toBeDefined();
    expect(node.logs.some((l) => l.includes('shutdown grace period over'))).toBe(true);
  });
});
