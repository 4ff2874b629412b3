import { createProject, createClient, inviteMember } from '../support/gql-ops';
import { query } from '../support/postgres';
import {
  type Cluster,
  AUDIENCE,
  JWKS_MAX_STALE_SECONDS,
  JWKS_REFRESH_SECONDS,
  REDIS_COMMAND_TIMEOUT_MS,
} from './cluster';
import { describeLoad, type LoadResult, startLoad } from './load';

// The fault drills of issue 13 §2. Each one does something to a running three-node cluster under load,
// prints what it did and what it saw, and records every promise it found broken. Bounds: every wait
// is bounded by time; the issue's own bounds ("within a second") are asserted with a stated margin,
// because this runs on a shared, loaded machine: the measured values are printed next to them.

/** Margin added to the issue's one-second bounds (a loaded 2-core CI machine). */
export const MARGIN_MS = 1500;

export interface DrillOptions {
  /** Seconds of load around the fault. */
  loadSeconds: number;
  /** Quick variant: no node restarts, no wait past the JWKS staleness bound. */
  quick: boolean;
  log: (line: string) => void;
}

export interface DrillReport {
  name: string;
  broken: string[];
}

class Drill {
  readonly broken: string[] = [];
  constructor(
    readonly name: string,
    private readonly log: (line: string) => void,
  ) {
    log(`\n== drill: ${name}`);
  }
  did(what: string): void {
    this.log(`  did:  ${what}`);
  }
  saw(what: string): void {
    this.log(`  saw:  ${what}`);
  }
  promise(kept: boolean, what: string): void {
    this.log(`  ${kept ? 'ok  ' : 'BROKEN'}  ${what}`);
    if (!kept) this.broken.push(what);
  }
  /** Load answers: every request answered 200, no connection error, no timeout. */
  allAnswered(r: LoadResult, what: string): void {
    this.saw(`load: ${describeLoad(r)}`);
    const ok = r.byStatus['200'] ?? 0;
    this.promise(ok > 0 && ok === r.requests && r.timeouts === 0, what);
  }
  report(): DrillReport {
    this.log(`  => ${this.broken.length === 0 ? 'PASS' : `FAIL (${this.broken.length} broken)`}`);
    return { name: this.name, broken: this.broken };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - t0 };
}

/** Polls until `check` is true; the milliseconds it took, or undefined after `ms`. */
async function until(check: () => Promise<boolean>, ms: number): Promise<number | undefined> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await check().catch(() => false)) return Date.now() - t0;
    await sleep(50);
  }
  return undefined;
}

async function userinfo(
  base: string,
  token: string,
): Promise<{ status: number; retryAfter: string | null }> {
  const res = await fetch(`${base}/oauth2/userinfo`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(15_000),
  });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: res.headers.get('retry-after') };
}

/** A machine client of the cluster, and a way to get and revoke its access tokens on any node. */
async function machineClient(c: Cluster) {
  const created = await createClient(c, c.adminToken);
  const basic = `Basic ${Buffer.from(`${created.client.clientId}:${created.clientSecret}`).toString('base64')}`;
  const form = (body: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
    body: new URLSearchParams(body).toString(),
    signal: AbortSignal.timeout(15_000),
  });
  return {
    id: created.client.id,
    token: async (base = c.url): Promise<string> => {
      const res = await fetch(`${base}/oauth2/token`, form({ grant_type: 'client_credentials' }));
      if (res.status !== 200) throw new Error(`client_credentials: ${res.status}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
    tokenStatus: async (base = c.url): Promise<{ status: number; retryAfter: string | null }> => {
      const res = await fetch(`${base}/oauth2/token`, form({ grant_type: 'client_credentials' }));
      await res.arrayBuffer();
      return { status: res.status, retryAfter: res.headers.get('retry-after') };
    },
    revoke: async (token: string, base = c.url): Promise<number> =>
      (await fetch(`${base}/oauth2/revoke`, form({ token }))).status,
  };
}

/** `token` answers `status` on every live node (directly, not through the balancer). */
async function onEveryNode(c: Cluster, token: string, status: number): Promise<boolean> {
  for (const node of c.nodes.filter((n) => n && n.child.exitCode === null && !n.child.killed))
    if ((await userinfo(node.url, token)).status !== status) return false;
  return true;
}

const liveNodes = (c: Cluster) =>
  c.nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);

/** Redis killed under load (SIGKILL), brought back later. */
export async function redisKilled(c: Cluster, o: DrillOptions): Promise<DrillReport> {
  const d = new Drill('Redis killed under load', o.log);
  const client = await machineClient(c);
  const [revoked, kept] = [await client.token(), await client.token()];
  const warm = await c.idp.token(AUDIENCE, { sub: 'drill-redis' });
  let valid = true;
  for (const t of [revoked, kept, warm]) valid &&= await onEveryNode(c, t, 200);
  d.promise(valid, 'before: the tokens are valid on every node');
  d.saw(`Redis holds ${await c.redisKeys()} keys`);

  const load = startLoad({ url: c.url, token: warm, seconds: o.loadSeconds });
  await sleep((o.loadSeconds * 1000) / 4);
  c.redis.process.kill('SIGKILL');
  d.did(`SIGKILL redis-server (pid ${c.redis.process.pid}) under load`);
  await sleep(300);
  d.did('revoked a client token through the balancer while Redis is down');
  d.saw(`revoke answered ${await client.revoke(revoked)}`);
  const perNode: string[] = [];
  let worstReach = 0;
  for (const node of liveNodes(c)) {
    const ms = await until(async () => (await userinfo(node.url, revoked)).status === 401, 10_000);
    perNode.push(`${node.name} ${ms ?? 'never'} ms`);
    worstReach = Math.max(worstReach, ms ?? Infinity);
  }
  d.saw(`revocation refused on every node after: ${perNode.join(', ')}`);
  d.promise(
    worstReach <= 1000 + MARGIN_MS,
    `the revocation reaches every node within a second (database poll; + ${MARGIN_MS} ms margin)`,
  );
  await sleep((o.loadSeconds * 1000) / 4);
  await c.startRedis();
  d.did(`restarted redis-server on port ${c.redisPort}`);
  const r = await load.done;
  d.allAnswered(r, 'warm requests kept succeeding through the balancer');
  d.promise(
    r.worstMs <= REDIS_COMMAND_TIMEOUT_MS + 2 * MARGIN_MS,
    `no request hung past the Redis command timeout (${REDIS_COMMAND_TIMEOUT_MS} ms; + ${2 * MARGIN_MS} ms margin for the machine): worst ${r.worstMs} ms`,
  );
  // Back to Redis: every node is ready again (its readiness pings Redis) and writes to it.
  const back = await until(async () => {
    for (const node of liveNodes(c))
      if ((await fetch(`${node.url}/health/ready`)).status !== 200) return false;
    return true;
  }, 30_000);
  d.saw(`every node ready (Redis up) again after ${back ?? 'never'} ms`);
  const fresh = await c.idp.token(AUDIENCE, { sub: 'drill-redis-after' });
  for (const node of liveNodes(c)) await userinfo(node.url, fresh);
  const keys = await c.redisKeys();
  d.saw(`Redis holds ${keys} keys after new requests`);
  d.promise(back !== undefined && keys > 0, 'the nodes went back to Redis when it returned');
  d.promise(
    await onEveryNode(c, revoked, 401),
    'after: the revoked token is refused on every node',
  );
  d.promise(await onEveryNode(c, kept, 200), 'after: the other token is valid on every node');
  return d.report();
}

/** PostgreSQL stopped under load, started again. */
export async function postgresStopped(c: Cluster, o: DrillOptions): Promise<DrillReport> {
  const d = new Drill('PostgreSQL stopped under load', o.log);
  // Accepted before the stop: an invite, a client (grant) and its token, a revocation.
  const projectId = await createProject(c, c.adminToken, `drill-${Date.now()}`);
  const invite = await inviteMember(c, c.adminToken, projectId, { email: 'drill@example.com' });
  const client = await machineClient(c);
  const [granted, revoked] = [await client.token(), await client.token()];
  d.saw(`revoke answered ${await client.revoke(revoked)}`);
  const warm = await c.idp.token(AUDIENCE, { sub: 'drill-pg' });
  d.promise(await onEveryNode(c, warm, 200), 'before: the warm token is valid on every node');
  d.did(`created project ${projectId}, invite ${invite.id}, client ${client.id}; revoked a token`);

  const load = startLoad({ url: c.url, token: warm, seconds: o.loadSeconds });
  await sleep((o.loadSeconds * 1000) / 4);
  await c.pg.down();
  d.did('stopped PostgreSQL under load');
  // A request that needs the database: a first login (a subject never seen).
  const cold = await c.idp.token(AUDIENCE, { sub: `drill-pg-new-${Date.now()}` });
  for (const node of liveNodes(c)) {
    const { value, ms } = await timed(() => userinfo(node.url, cold));
    d.saw(
      `${node.name}: first login answered ${value.status} (Retry-After ${value.retryAfter}) in ${ms} ms`,
    );
    d.promise(
      value.status === 503 && value.retryAfter !== null && ms <= 1000 + MARGIN_MS,
      `${node.name}: a request that needs PostgreSQL answers 503 with Retry-After within a second (+ ${MARGIN_MS} ms margin)`,
    );
  }
  const tokenAnswer = await timed(() => client.tokenStatus());
  d.saw(
    `client_credentials through the balancer: ${tokenAnswer.value.status} (Retry-After ${tokenAnswer.value.retryAfter}) in ${tokenAnswer.ms} ms`,
  );
  await sleep((o.loadSeconds * 1000) / 4);
  await c.pg.up();
  d.did('started PostgreSQL again (same port, same data)');
  const r = await load.done;
  d.allAnswered(r, 'warm requests that do not need PostgreSQL kept answering 200');
  const recovered: string[] = [];
  let all = true;
  for (const node of liveNodes(c)) {
    const ms = await until(async () => (await userinfo(node.url, cold)).status === 200, 60_000);
    recovered.push(`${node.name} ${ms ?? 'never'} ms`);
    all &&= ms !== undefined;
  }
  d.saw(`first login answered 200 again after: ${recovered.join(', ')}`);
  d.promise(all, 'every node recovered without a restart');
  const rows = await query<{ n: string }>(
    c.pg.url,
    `SELECT (SELECT count(*) FROM project_memberships WHERE id = $1)
          + (SELECT count(*) FROM oauth_clients WHERE id = $2) AS n`,
    [invite.id, client.id],
  );
  d.saw(`invite and client rows in PostgreSQL: ${rows[0]?.n}`);
  d.promise(
    Number(rows[0]?.n) === 2,
    'the invite and the client accepted before the stop are there',
  );
  d.promise(
    await onEveryNode(c, revoked, 401),
    'the revocation accepted before the stop holds on every node',
  );
  d.promise(
    await onEveryNode(c, granted, 200),
    'the token granted before the stop works on every node',
  );
  d.promise((await client.tokenStatus()).status === 200, 'the client gets new tokens');
  return d.report();
}

/** The identity provider's JWKS endpoint down for longer than the refresh interval. */
export async function jwksDown(c: Cluster, o: DrillOptions): Promise<DrillReport> {
  const d = new Drill('IdP JWKS endpoint down longer than the refresh interval', o.log);
  const warm = await c.idp.token(AUDIENCE, { sub: 'drill-jwks' });
  d.promise(await onEveryNode(c, warm, 200), 'before: the warm token is valid on every node');
  const downFor = o.quick
    ? JWKS_REFRESH_SECONDS + 3
    : JWKS_MAX_STALE_SECONDS + JWKS_REFRESH_SECONDS + 5;
  const load = startLoad({ url: c.url, token: warm, seconds: downFor + 2 });
  c.idp.mode = 'down';
  d.did(
    `JWKS endpoint down (connections cut) for ${downFor} s; refresh ${JWKS_REFRESH_SECONDS} s, staleness bound ${JWKS_MAX_STALE_SECONDS} s`,
  );
  await sleep((JWKS_REFRESH_SECONDS + 2) * 1000);
  const fetchesBefore = c.idp.fetches;
  const known = await c.idp.token(AUDIENCE, { sub: `drill-jwks-known-${Date.now()}` });
  d.promise(
    await onEveryNode(c, known, 200),
    'past the refresh interval, a new token signed with a known key is accepted on every node',
  );
  if (!o.quick) {
    await sleep((downFor - JWKS_REFRESH_SECONDS - 2) * 1000);
    const late = await c.idp.token(AUDIENCE, { sub: `drill-jwks-late-${Date.now()}` });
    const answers = await Promise.all(liveNodes(c).map((n) => userinfo(n.url, late)));
    d.saw(`past the staleness bound: ${answers.map((a) => a.status).join(', ')}`);
    d.promise(
      answers.every((a) => a.status === 503),
      'past the staleness bound, a token of that issuer answers 503 on every node',
    );
  } else {
    d.saw(
      `quick variant: the ${JWKS_MAX_STALE_SECONDS} s staleness bound is checked by npm run drills`,
    );
  }
  d.saw(
    `the nodes tried the JWKS ${c.idp.fetches - fetchesBefore} times meanwhile (cut each time)`,
  );
  c.idp.mode = 'ok';
  const rotated = await c.idp.addKey('RS256');
  d.did(`JWKS endpoint back, with a new key ${rotated.kid}`);
  const newKey = await c.idp.token(AUDIENCE, { sub: 'drill-jwks-rotated' }, { key: rotated });
  const recovered = await until(() => onEveryNode(c, newKey, 200), 30_000);
  d.saw(`a token signed with the new key accepted on every node after ${recovered ?? 'never'} ms`);
  d.promise(recovered !== undefined, 'recovery is automatic');
  const r = await load.done;
  if (o.quick) d.allAnswered(r, 'warm requests kept succeeding through the balancer');
  else d.saw(`load (cached token, through the balancer): ${describeLoad(r)}`);
  return d.report();
}

/** A node killed with SIGKILL mid-load; what it issued keeps working on the others. */
export async function nodeKilled(c: Cluster, o: DrillOptions, index = 1): Promise<DrillReport> {
  const d = new Drill('a node killed with SIGKILL mid-load', o.log);
  const victim = c.nodes[index];
  const client = await machineClient(c);
  const issued = await client.token(victim.url);
  d.did(`${victim.name} issued a client token`);
  const warm = await c.idp.token(AUDIENCE, { sub: 'drill-kill' });
  d.promise(await onEveryNode(c, warm, 200), 'before: the warm token is valid on every node');
  const load = startLoad({ url: c.url, token: warm, seconds: o.loadSeconds });
  await sleep((o.loadSeconds * 1000) / 3);
  victim.signal('SIGKILL');
  d.did(`SIGKILL ${victim.name} (pid ${victim.child.pid}) under load`);
  await victim.exited;
  const r = await load.done;
  d.allAnswered(r, 'the balancer routed around the dead node: no request failed');
  d.promise(
    await onEveryNode(c, issued, 200),
    `the token ${victim.name} issued works on the other nodes`,
  );
  d.promise(
    (await client.tokenStatus()).status === 200,
    'its client gets new tokens through the balancer',
  );
  if (!o.quick) {
    const { ms } = await timed(() => c.startNode(index));
    d.did(`restarted ${victim.name} in ${ms} ms`);
    d.promise(await onEveryNode(c, issued, 200), `the token works on the restarted ${victim.name}`);
  }
  return d.report();
}

/** One node of three restarted (SIGTERM) under load: no request in flight is lost. */
export async function rollingRestart(c: Cluster, o: DrillOptions, index = 0): Promise<DrillReport> {
  const d = new Drill('a node restarted (SIGTERM) under load', o.log);
  const node = c.nodes[index];
  const warm = await c.idp.token(AUDIENCE, { sub: 'drill-restart' });
  d.promise(await onEveryNode(c, warm, 200), 'before: the warm token is valid on every node');
  const load = startLoad({ url: c.url, token: warm, seconds: o.loadSeconds });
  await sleep((o.loadSeconds * 1000) / 3);
  const { value: exit, ms } = await timed(async () => {
    node.signal('SIGTERM');
    return node.exited;
  });
  d.did(`SIGTERM ${node.name} under load`);
  d.saw(`${node.name} exited with ${exit.code ?? exit.signal} after ${ms} ms`);
  d.promise(exit.code === 0, `${node.name} drained and exited 0`);
  if (!o.quick) {
    const started = await timed(() => c.startNode(index));
    d.did(`started ${node.name} again in ${started.ms} ms`);
  }
  const r = await load.done;
  d.allAnswered(r, 'no request was lost');
  return d.report();
}

export const ALL_DRILLS = [redisKilled, postgresStopped, jwksDown, rollingRestart, nodeKilled];
