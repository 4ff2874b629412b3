import { PG_URL_ENV, startTestPostgres, type TestPostgres } from './support/postgres';
import { ensureRedisServer } from './support/redis';

declare global {
  var __BK_TEST_POSTGRES__: TestPostgres | undefined;
}

/** Starts the one slow shared server (PostgreSQL) and makes sure redis-server is available. */
export default async function globalSetup(): Promise<void> {
  ensureRedisServer();
  const pg = await startTestPostgres();
  globalThis.__BK_TEST_POSTGRES__ = pg;
  process.env[PG_URL_ENV] = pg.url;
}
