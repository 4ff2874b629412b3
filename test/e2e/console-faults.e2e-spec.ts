import { ConsoleActivityService } from 'src/console/console-activity.service';
import { type RunningBridgekeeper, startBridgekeeper } from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';
import { waitFor } from '../support/ports';
import { RestartablePostgres } from '../support/postgres';

// Issue 10 with PostgreSQL down (SECURITY.md rule 18): the console's statistics and overview answer
// SERVICE_UNAVAILABLE (never a 500), the counts made during the outage are kept and written once the
// database is back, and a viewer who is already cached keeps working.
jest.setTimeout(90_000);
const AUD = 'bk-console-faults';

interface Bucket {
  issuer: string;
  outcome: string;
  count: number;
}

describe('the console’s GraphQL while PostgreSQL is down', () => {
  let pg: RestartablePostgres;
  let stub: JwksStub;
  let bk: RunningBridgekeeper;

  beforeAll(async () => {
    pg = await RestartablePostgres.start();
    stub = await JwksStub.start();
    bk = await startBridgekeeper({
      issuers: [stub.trustedIssuer('stub', AUD)],
      databaseUrl: pg.url,
      admins: ['stub:admin'],
    });
  });

  afterAll(async () => {
    await bk?.close();
    await pg?.destroy();
    await stub?.stop();
  });

  const STATS = '{ tokenStats(lastMinutes: 10) { buckets { issuer outcome count } } }';

  async function accepted(admin: string): Promise<number> {
    const res = await bk.graphql(STATS, admin);
    expect(res.body.errors).toBeUndefined();
    return (res.body.data!.tokenStats as { buckets: Bucket[] }).buckets
      .filter((b) => b.issuer === 'stub' && b.outcome === 'ACCEPTED')
      .reduce((n, b) => n + b.count, 0);
  }

  it('answers SERVICE_UNAVAILABLE, keeps the outage’s counts and writes them once it is back', async () => {
    const admin = await stub.token(AUD, { sub: 'admin' });
    const person = await stub.token(AUD, { sub: 'someone' });
    expect((await bk.get('/oauth2/userinfo', person)).status).toBe(200);
    const before = await accepted(admin);

    await pg.down();
    for (const query of [STATS, '{ overview { actorsCreatedToday } }']) {
      const res = await bk.graphql(query, admin);
      expect(res.status).not.toBe(500);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    }
    // The admin's token is still validated (verified-token cache) and counted; its projects need the
    // database.
    const during = await bk.graphql('{ viewer { isServerAdmin } }', admin);
    expect(during.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    await expect(bk.app.get(ConsoleActivityService).flush()).rejects.toBeDefined();

    await pg.up();
    await waitFor(
      'database recovery',
      async () => (await bk.get('/health/ready')).status === 200,
      30_000,
      200,
    );
    // Every admin request above was a validation too: at least those of the outage are in.
    expect((await accepted(admin)) - before).toBeGreaterThanOrEqual(3);
  });
});
