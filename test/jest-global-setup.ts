import { PG_URL_ENV, startTestPostgres, type TestPostgres } from './support/postgres';
import { ensureChromium } from './support/chromium';
import { ensureRedisServer } from './support/redis';
import { ensureConsoleBuilt } from './support/console-build';

declare global {
  var __BK_TEST_POSTGRES__: TestPostgres | undefined;
}

/**
 * Starts the one slow shared server (PostgreSQL) and makes sure redis-server and Chromium are installed
 * (once, here, so that parallel test files never race for the package manager), and builds the admin
 * console when console/dist is missing or older than its sources (the browser tests open it).
 */
export default async function globalSetup(): Promise<void> {
  ensureRedisServer();
  ensureChromium();
  await ensureConsoleBuilt();
  const pg = await startTestPostgres();
  globalThis.__BK_TEST_POSTGRES__ = pg;
  process.env[PG_URL_ENV] = pg.url;
}
