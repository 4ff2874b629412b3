import { createConnection } from 'node:net';
import type { GraphqlBody } from '../support/bridgekeeper';
import { type Balancer, startBalancer } from '../support/balancer';
import { JwksStub } from '../support/jwks-stub';
import { startNodeProcess, type NodeProcess } from '../support/node-process';
import { freePort } from '../support/ports';
import { RestartablePostgres } from '../support/postgres';
import { type RedisServer, startRedis } from '../support/redis';

export const AUDIENCE = 'bridgekeeper';
/** JWKS refresh of the drills' issuer: the shortest allowed, so "down longer than the refresh" is quick. */
export const JWKS_REFRESH_SECONDS = 5;
/** The shortest staleness bound allowed. */
export const JWKS_MAX_STALE_SECONDS = 60;
export const REDIS_COMMAND_TIMEOUT_MS = 500;

/** Three nodes on one PostgreSQL and one Redis behind a balancer, all on loopback, all stoppable. */
export class Cluster {
  readonly nodes: NodeProcess[] = [];
  private readonly nodePorts: number[] = [];
  private readonly dataDirs: string[] = [];
  pg!: RestartablePostgres;
  redis!: RedisServer;
  redisPort = 0;
  idp!: JwksStub;
  lb!: Balancer;
  lbPort = 0;
  adminToken = '';

  get url(): string {
    return this.lb.url;
  }

  /** Starts everything; on a failure everything started so far is stopped again. */
  static async start(log: (line: string) => void = () => undefined): Promise<Cluster> {
    const c = new Cluster();
    try {
      const t0 = Date.now();
      [c.pg, c.idp, c.redisPort, c.lbPort] = await Promise.all([
        RestartablePostgres.start(),
        JwksStub.start(),
        freePort(),
        freePort(),
      ]);
      c.redis = await startRedis({ port: c.redisPort });
      for (let i = 0; i < 3; i++) c.nodePorts.push(await freePort());
      await Promise.all([0, 1, 2].map((i) => c.startNode(i)));
      c.lb = await startBalancer(
        c.nodePorts.map((p) => `127.0.0.1:${p}`),
        c.lbPort,
      );
      c.adminToken = await c.idp.token(AUDIENCE, { sub: 'root' });
      log(
        `cluster up in ${Math.round((Date.now() - t0) / 1000)} s: balancer ${c.lb.kind} ${c.url}, ` +
          `nodes ${c.nodePorts.join(', ')}, PostgreSQL ${new URL(c.pg.url).port}, Redis ${c.redisPort}`,
      );
      return c;
    } catch (err) {
      await c.stop();
      throw err;
    }
  }

  /** Starts (or restarts, on the same port and data dir) node `i` and waits until it is ready. */
  async startNode(i: number): Promise<NodeProcess> {
    const node = await startNodeProcess({
      name: `node${i + 1}`,
      databaseUrl: this.pg.url,
      redisUrl: `redis://127.0.0.1:${this.redisPort}`,
      port: this.nodePorts[i],
      issuers: [this.idp.trustedIssuer('corp', AUDIENCE)],
      admins: ['corp:root'],
      properties: {
        'bridgekeeper.public.url': `http://127.0.0.1:${this.lbPort}`,
        'bridgekeeper.jwks.refresh.seconds': String(JWKS_REFRESH_SECONDS),
        'bridgekeeper.jwks.max.stale.seconds': String(JWKS_MAX_STALE_SECONDS),
        'bridgekeeper.jwks.cooldown.seconds': '1',
        'bridgekeeper.redis.command.timeout.ms': String(REDIS_COMMAND_TIMEOUT_MS),
        'bridgekeeper.log.level': 'warn',
      },
    });
    this.nodes[i] = node;
    return node;
  }

  async startRedis(): Promise<void> {
    this.redis = await startRedis({ port: this.redisPort });
  }

  /** Keys in Redis now (a raw DBSIZE), or -1 when it does not answer. */
  redisKeys(): Promise<number> {
    return new Promise((resolve) => {
      const socket = createConnection({ port: this.redisPort, host: '127.0.0.1' });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(-1);
      }, 2000);
      socket.once('error', () => {
        clearTimeout(timer);
        resolve(-1);
      });
      socket.once('connect', () => socket.write('DBSIZE\r\n'));
      socket.once('data', (data) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(Number(/^:(\d+)/.exec(data.toString())?.[1] ?? -1));
      });
    });
  }

  async graphql(
    query: string,
    token: string,
    variables?: Record<string, unknown>,
    base = this.url,
  ): Promise<{ status: number; headers: Headers; body: GraphqlBody }> {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as GraphqlBody };
  }

  /** Stops every process this cluster started; never throws. */
  async stop(): Promise<void> {
    await Promise.allSettled([this.lb?.stop(), ...this.nodes.map((n) => n?.stop(10_000))]);
    await Promise.allSettled([this.redis?.stop(), this.pg?.destroy(), this.idp?.stop()]);
  }
}
