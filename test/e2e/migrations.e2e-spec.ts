import { type DataSource } from 'typeorm';
import { loadConfig } from 'src/config/config.loader';
import { createDataSource, MIGRATIONS } from 'src/database/data-source';
import { pendingSchemaChanges, runMigrationsWithLock } from 'src/database/migration-runner';
import { createTestDatabase, query } from '../support/postgres';

// Migration drift: the migrations alone must produce exactly the schema the entities describe, two nodes
// migrating at once must not collide, and every migration must revert cleanly.
describe('database migrations', () => {
  let url: string;
  const config = loadConfig({ env: {}, cwd: __dirname });
  const sources: DataSource[] = [];
  const open = async () => {
    const ds = createDataSource(config, url);
    sources.push(ds);
    return ds.initialize();
  };

  beforeAll(async () => {
    url = await createTestDatabase();
  });

  afterAll(async () => {
    await Promise.all(sources.filter((s) => s.isInitialized).map((s) => s.destroy()));
  });

  it('apply once even when two nodes start together', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const [ranA, ranB] = await Promise.all([runMigrationsWithLock(a), runMigrationsWithLock(b)]);
    expect([...ranA, ...ranB].sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
    const rows = await query<{ name: string }>(url, 'SELECT name FROM bridgekeeper_migrations');
    expect(rows).toHaveLength(MIGRATIONS.length);
  });

  it('leave no difference between the entities and the database (no drift)', async () => {
    const ds = sources[0];
    expect(await pendingSchemaChanges(ds)).toEqual([]);
  });

  it('revert cleanly, down to an empty schema, and apply again', async () => {
    const ds = sources[0];
    for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    const tables = await query<{ table_name: string }>(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'bridgekeeper_migrations'",
    );
    expect(tables).toEqual([]);
    await runMigrationsWithLock(ds);
    expect(await pendingSchemaChanges(ds)).toEqual([]);
  });
});
