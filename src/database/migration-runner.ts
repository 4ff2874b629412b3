import type { DataSource } from 'typeorm';

/** Arbitrary constant: the advisory lock key that serialises migrations across nodes starting at once. */
const MIGRATION_LOCK_KEY = 727_274_001;

/**
 * Runs pending migrations while holding a PostgreSQL advisory lock, so two nodes starting together never
 * run the same migration twice: the second waits, then finds nothing pending.
 */
export async function runMigrationsWithLock(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const done = await dataSource.runMigrations({ transaction: 'each' });
      return done.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/** SQL statements that would bring the database in line with the entities (empty = no drift). */
export async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  return sql.upQueries.map((q) => q.query);
}
