import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePort, waitFor } from './ports';
import { ensureDebianBinary, stopChild } from './redis';

/** The HAProxy configuration of the docker-compose cluster profile, used as is with loopback addresses. */
export const HAPROXY_CFG = join(__dirname, '..', '..', 'deploy', 'haproxy.cfg');

export interface Balancer {
  url: string;
  kind: 'haproxy' | 'tcp-round-robin';
  stop(): Promise<void>;
}

/**
 * A load balancer on a free loopback port in front of three nodes (`host:port`): HAProxy with
 * deploy/haproxy.cfg (Debian's package, installed when missing and we are root), else a small TCP
 * round-robin that skips nodes refusing connections (no health checks, no retries of requests a node
 * accepted; said in the drills' output).
 */
export async function startBalancer(nodes: string[], port?: number): Promise<Balancer> {
  port ??= await freePort();
  let haproxy: string | undefined;
  try {
    haproxy = ensureDebianBinary('haproxy', 'haproxy', 'the drills');
  } catch (err) {
    process.stderr.write(`${(err as Error).message}: using a TCP round-robin instead\n`);
  }
  const balancer = haproxy
    ? await startHaproxy(haproxy, port, nodes)
    : await TcpRoundRobin.start(port, nodes);
  await waitFor(
    `the balancer on ${port}`,
    async () => (await fetch(`${balancer.url}/health/live`)).status === 200,
    30_000,
    100,
  );
  return balancer;
}

async function startHaproxy(bin: string, port: number, nodes: string[]): Promise<Balancer> {
  const env = {
    ...process.env,
    BK_LISTEN: `127.0.0.1:${port}`,
    BK_NODE1: nodes[0],
    BK_NODE2: nodes[1],
    BK_NODE3: nodes[2],
  };
  const child: ChildProcess = spawn(bin, ['-db', '-f', HAPROXY_CFG], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`haproxy exited ${code}: ${stderr}\n`);
  });
  return { url: `http://127.0.0.1:${port}`, kind: 'haproxy', stop: () => stopChild(child) };
}

/** Fallback balancer: each connection goes to the next node that accepts it. */
class TcpRoundRobin {
  private next = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    private readonly targets: { host: string; port: number }[],
  ) {}

  static async start(port: number, nodes: string[]): Promise<Balancer> {
    const server = createServer();
    const rr = new TcpRoundRobin(
      server,
      nodes.map((n) => ({ host: n.split(':')[0], port: Number(n.split(':')[1]) })),
    );
    server.on('connection', (client) => rr.route(client, 0));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${port}`, kind: 'tcp-round-robin', stop: () => rr.stop() };
  }

  private route(client: Socket, attempt: number): void {
    if (attempt >= this.targets.length) {
      client.destroy();
      return;
    }
    const target = this.targets[this.next++ % this.targets.length];
    const upstream = connect(target.port, target.host);
    let connected = false;
    upstream.once('error', () => {
      if (!connected) this.route(client, attempt + 1);
      else client.destroy();
    });
    upstream.once('connect', () => {
      connected = true;
      this.sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const done = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.once('close', done).once('error', done);
      upstream.once('close', done);
    });
  }

  private async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
