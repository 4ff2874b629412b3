import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { AuditService } from 'src/audit/audit.service';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { TestBrowser } from '../support/browser';
import {
  actorIdOf,
  createClient,
  createProject,
  disableActor,
  gqlData,
  rotateClientSecret,
} from '../support/gql-ops';
import { JwksStub } from '../support/jwks-stub';
import { query, RestartablePostgres } from '../support/postgres';

// Issue 13 §4: the audit log, over GraphQL and in the table.
jest.setTimeout(60_000);
const AUD = 'bk-audit';
const PASSWORD = 'correct horse battery staple';

const AUDIT_EVENTS = `query($filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id createdAt action outcome actorId clientId act { sub clientId }
      targetType targetId projectId clientAddress requestId details } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface AuditNode {
  id: string;
  createdAt: string;
  action: string;
  outcome: string;
  actorId: string | null;
  clientId: string | null;
  targetType: string | null;
  targetId: string | null;
  projectId: string | null;
  clientAddress: string | null;
  requestId: string | null;
  details: string | null;
}

async function auditEvents(
  bk: RunningBridgekeeper,
  token: string,
  variables: Record<string, unknown>,
): Promise<{ edges: { cursor: string; node: AuditNode }[]; pageInfo: { hasNextPage: boolean } }> {
  const data = await gqlData<{ auditEvents: never }>(bk, token, AUDIT_EVENTS, variables);
  return data.auditEvents;
}

async function clientCredentials(
  bk: RunningBridgekeeper,
  clientId: string,
  secret: string,
): Promise<Response> {
  return fetch(`${bk.url}/oauth2/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  });
}

describe('audit log', () => {
  let stub: JwksStub;
  let bk: RunningBridgekeeper;
  let adminToken: string;
  let adminId: string;

  beforeAll(async () => {
    stub = await JwksStub.start();
    bk = await startBridgekeeper({
      issuers: [stub.trustedIssuer('idp', AUD)],
      admins: ['idp:root'],
    });
    adminToken = await stub.token(AUD, { sub: 'root' });
    adminId = await actorIdOf(bk, adminToken);
  });

  afterAll(async () => {
    await bk?.close();
    await stub?.stop();
  });

  it('answers "who disabled this actor, and when?" from GraphQL', async () => {
    const aliceToken = await stub.token(AUD, { sub: 'alice' });
    const aliceId = await actorIdOf(bk, aliceToken);
    const before = Date.now();
    await disableActor(bk, adminToken, aliceId);
    const page = await auditEvents(bk, adminToken, {
      filter: { targetId: aliceId, action: 'actor.disable' },
    });
    expect(page.edges).toHaveLength(1);
    const e = page.edges[0]!.node;
    expect(e).toMatchObject({
      action: 'actor.disable',
      outcome: 'SUCCESS',
      actorId: adminId,
      targetType: 'actor',
      targetId: aliceId,
      clientAddress: '127.0.0.1',
    });
    expect(e.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(e.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(e.createdAt)).toBeLessThanOrEqual(Date.now() + 1000);
    // The same question by actor: every event of the admin includes it.
    const byAdmin = await auditEvents(bk, adminToken, {
      filter: { actorId: adminId },
      first: 40,
    });
    expect(byAdmin.edges.map((x) => x.node.id)).toContain(e.id);
    // A time range that ends before it does not.
    const earlier = await auditEvents(bk, adminToken, {
      filter: { targetId: aliceId, to: new Date(before - 60_000).toISOString() },
    });
    expect(earlier.edges).toHaveLength(0);
  });

  it('pages with a cursor, and refuses a forged cursor, a bad filter and a non-admin', async () => {
    for (let i = 0; i < 3; i++) await createProject(bk, adminToken, `paged ${i}`);
    const first = await auditEvents(bk, adminToken, {
      filter: { action: 'project.create' },
      first: 2,
    });
    expect(first.edges).toHaveLength(2);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await auditEvents(bk, adminToken, {
      filter: { action: 'project.create' },
      first: 2,
      after: first.edges[1]!.cursor,
    });
    expect(second.edges.length).toBeGreaterThanOrEqual(1);
    expect(second.edges.map((x) => x.node.id)).not.toContain(first.edges[0]!.node.id);

    const forged = await bk.graphql(AUDIT_EVENTS, adminToken, { after: 'bm90IGEgY3Vyc29y' });
    expect(forged.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badActor = await bk.graphql(AUDIT_EVENTS, adminToken, {
      filter: { actorId: 'nope' },
    });
    expect(badActor.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const nobody = await bk.graphql(AUDIT_EVENTS, await stub.token(AUD, { sub: 'nobody' }), {});
    expect(nobody.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it("shows a project admin only its project's events", async () => {
    const mine = await createProject(bk, adminToken, 'mine');
    const other = await createProject(bk, adminToken, 'other');
    const scoped = await createClient(bk, adminToken, {
      name: 'project admin',
      projectId: mine,
      roles: ['ADMIN'],
    });
    await createClient(bk, adminToken, { name: 'elsewhere', projectId: other });
    const res = await clientCredentials(bk, scoped.client.clientId, scoped.clientSecret!);
    expect(res.status).toBe(200);
    const projectToken = ((await res.json()) as { access_token: string }).access_token;
    const seen = await auditEvents(bk, projectToken, { first: 40 });
    expect(seen.edges.length).toBeGreaterThanOrEqual(2);
    for (const { node } of seen.edges) expect(node.projectId).toBe(mine);
    expect(seen.edges.map((x) => x.node.action)).toEqual(
      expect.arrayContaining(['project.create', 'client.create']),
    );
    // The server admin sees the other project's too.
    const all = await auditEvents(bk, adminToken, { filter: { action: 'client.create' } });
    expect(all.edges.map((x) => x.node.projectId)).toEqual(expect.arrayContaining([mine, other]));
  });

  it('records sign-ins, client authentication failures and secret rotations, never a secret', async () => {
    const accounts = bk.app.get(LocalAccountsService);
    const { actorId } = await accounts.create({
      username: 'bob',
      email: 'bob@example.com',
      displayName: 'Bob',
      password: PASSWORD,
    });
    const browser = new TestBrowser(bk.url);
    const wrong = await browser.submit('/login', { username: 'bob', password: `${PASSWORD}!` });
    expect(wrong.status).toBe(401);
    const ok = await new TestBrowser(bk.url).submit('/login', {
      username: 'bob',
      password: PASSWORD,
    });
    expect(ok.status).toBe(303);

    const created = await createClient(bk, adminToken, { name: 'rotated' });
    const rotated = await rotateClientSecret(bk, adminToken, created.client.id);
    const good = await clientCredentials(bk, created.client.clientId, rotated);
    expect(good.status).toBe(200);
    const issued = ((await good.json()) as { access_token: string }).access_token;
    const refused = await clientCredentials(bk, created.client.clientId, created.clientSecret!);
    expect(refused.status).toBe(401);
    await bk.app.get(AuditService).flush();

    const rows = await query<{ action: string; outcome: string; actor_id: string | null }>(
      bk.databaseUrl,
      'SELECT action, outcome, actor_id, client_id FROM audit_events ORDER BY created_at',
    );
    const actions = rows.map((r) => `${r.action}:${r.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'login.failure:FAILURE',
        'login.success:SUCCESS',
        'client.create:SUCCESS',
        'client.secret.rotate:SUCCESS',
        'client.authentication.failure:FAILURE',
      ]),
    );
    expect(rows.find((r) => r.action === 'login.success')?.actor_id).toBe(actorId);
    const failure = await query<{ client_id: string; details: { endpoint: string } }>(
      bk.databaseUrl,
      "SELECT client_id, details FROM audit_events WHERE action = 'client.authentication.failure'",
    );
    expect(failure[0]).toMatchObject({
      client_id: created.client.clientId,
      details: { endpoint: 'token' },
    });

    // Grep the whole table: no password, secret or token, in any column.
    const dump = (
      await query<{ row: string }>(
        bk.databaseUrl,
        'SELECT row_to_json(a)::text AS row FROM audit_events a',
      )
    )
      .map((r) => r.row)
      .join('\n');
    for (const secret of [
      PASSWORD,
      created.clientSecret!,
      rotated,
      issued,
      adminToken,
      issued.split('.')[2]!,
      adminToken.split('.')[2]!,
    ]) {
      expect(dump).not.toContain(secret);
    }
    expect(dump).not.toMatch(/bks_|eyJ/);
  });

  it('writes the change and its event in one transaction: a refused change leaves no event', async () => {
    const [{ n: before }] = await query<{ n: string }>(
      bk.databaseUrl,
      'SELECT count(*) AS n FROM audit_events',
    );
    // An unknown actor: the update matches no row, nothing is audited.
    const res = await bk.graphql(
      'mutation($id: ID!) { disableActor(id: $id) { id } }',
      adminToken,
      { id: '00000000-0000-4000-8000-000000000000' },
    );
    expect(res.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const [{ n: after }] = await query<{ n: string }>(
      bk.databaseUrl,
      'SELECT count(*) AS n FROM audit_events',
    );
    expect(after).toBe(before);
  });

  it('purges events older than the retention', async () => {
    await query(
      bk.databaseUrl,
      "INSERT INTO audit_events (action, outcome, created_at) VALUES ('old.event', 'SUCCESS', now() - interval '400 days')",
    );
    expect(await bk.app.get(AuditService).purge()).toBe(1);
    const left = await query(
      bk.databaseUrl,
      "SELECT 1 FROM audit_events WHERE action = 'old.event'",
    );
    expect(left).toHaveLength(0);
  });
});

// `bridgekeeper.audit.stdout=true` and a database outage: every written event is also a JSON line on
// standard output for log shippers; a security event that cannot be written is counted as dropped and
// logged, and the next ones are written again once PostgreSQL is back.
describe('audit log on stdout, and with PostgreSQL down', () => {
  let pg: RestartablePostgres;
  let stub: JwksStub;
  let bk: RunningBridgekeeper;
  let adminToken: string;
  const lines: string[] = [];
  let restore: () => void;

  beforeAll(async () => {
    pg = await RestartablePostgres.start();
    stub = await JwksStub.start();
    bk = await startBridgekeeper({
      issuers: [stub.trustedIssuer('idp', AUD)],
      admins: ['idp:root'],
      databaseUrl: pg.url,
      properties: { 'bridgekeeper.audit.stdout': 'true' },
    });
    adminToken = await stub.token(AUD, { sub: 'root' });
    // Process stdout itself (where a log shipper reads), kept as well as passed on.
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((l) => l.startsWith('{"audit":')),
      );
      return write(chunk, ...rest);
    }) as typeof process.stdout.write;
    restore = () => {
      process.stdout.write = write;
    };
  });

  afterAll(async () => {
    restore?.();
    await bk?.close();
    await stub?.stop();
    await pg?.destroy();
  });

  const audited = () =>
    lines.map((l) => (JSON.parse(l) as { audit: Record<string, unknown> }).audit);

  async function droppedCount(): Promise<number> {
    const text = await (await fetch(`${bk.url}/metrics`)).text();
    const m = /^bridgekeeper_audit_events_total\{outcome="dropped"\} (\d+)/m.exec(text);
    return m ? Number(m[1]) : 0;
  }

  it('writes admin changes and security events as JSON lines, never a secret', async () => {
    const adminId = await actorIdOf(bk, adminToken);
    const projectId = await createProject(bk, adminToken, 'Shipped');
    const client = await createClient(bk, adminToken, { name: 'shipper', scopes: ['api'] });
    expect((await clientCredentials(bk, client.client.clientId, 'not-the-secret')).status).toBe(
      401,
    );
    await bk.app.get(AuditService).flush();
    expect(audited()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'project.create',
          actorId: adminId,
          targetId: projectId,
          outcome: 'SUCCESS',
          clientAddress: '127.0.0.1',
        }),
        expect.objectContaining({
          action: 'client.authentication.failure',
          clientId: client.client.clientId,
          outcome: 'FAILURE',
        }),
      ]),
    );
    const all = lines.join('\n');
    for (const secret of [client.clientSecret!, 'not-the-secret', adminToken.split('.')[2]!])
      expect(all).not.toContain(secret);
  });

  it('counts a security event lost to an outage as dropped, and writes again after it', async () => {
    const audit = bk.app.get(AuditService);
    const before = await droppedCount();
    await pg.down();
    try {
      audit.security({ action: 'test.during_outage', outcome: 'FAILURE' });
      await audit.flush();
    } finally {
      await pg.up();
    }
    expect(await droppedCount()).toBe(before + 1);
    expect(bk.logs.join('\n')).toContain('audit event not written');
    expect(audited().map((e) => e.action)).not.toContain('test.during_outage');
    // Back: the pool reconnects and the next event is written (and shipped).
    let written = false;
    for (let i = 0; i < 50 && !written; i++) {
      audit.security({ action: 'test.after_outage', outcome: 'SUCCESS' });
      await audit.flush();
      written =
        (await query(pg.url, "SELECT 1 FROM audit_events WHERE action = 'test.after_outage'"))
          .length > 0;
      if (!written) await new Promise((r) => setTimeout(r, 200));
    }
    expect(written).toBe(true);
    expect(audited().map((e) => e.action)).toContain('test.after_outage');
  });
});
