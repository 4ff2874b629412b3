import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import pino from 'pino';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePort } from './ports';
import { stopChild } from './redis';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/database/embedded-postgres';

/** The env var through which the global setup hands the shared PostgreSQL URL to the test files. */
export const PG_URL_ENV = 'BRIDGEKEEPER_TEST_POSTGRES_URL';

export interface TestPostgres {
  url: string;
  stop(): Promise<void>;
}

/** A real PostgreSQL (embedded-postgres) in a throw-away directory; removed on stop. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'bk-test-pg-'));
  let db: EmbeddedDatabase;
  try {
    db = await startEmbeddedPostgres(dir, pino({ level: 'warn' }));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: db.url,
    stop: async () => {
      try {
        await db.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A private PostgreSQL that a test can take down and bring back on the same port and data. */
export class RestartablePostgres {
  private child?: ChildProcess;
  url = '';
  private constructor(
    private readonly dir: string,
    private readonly port: number,
  ) {}

  static async start(): Promise<RestartablePostgres> {
    const pg = new RestartablePostgres(
      mkdtempSync(join(tmpdir(), 'bk-test-pg-')),
      await freePort(),
    );
    await pg.up();
    return pg;
  }

  async up(): Promise<void> {
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', join(__dirname, 'pg-process.ts'), this.dir, String(this.port)],
      { stdio: ['ignore', 'pipe', 'inherit'], cwd: join(__dirname, '..', '..') },
    );
    this.child = child;
    const ready = await new Promise<{ url: string }>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited with ${code}`)));
      createInterface({ input: child.stdout! }).once('line', (line) =>
        resolve(JSON.parse(line) as { url: string }),
      );
    });
    this.url = ready.url;
  }

  async down(): Promise<void> {
    if (this.child) await stopChild(this.child);
    this.child = undefined;
  }

  async destroy(): Promise<void> {
    try {
      await this.down();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** Creates an empty database on the shared test server, so every test file starts from nothing. */
export async function createTestDatabase(serverUrl = sharedPostgresUrl()): Promise<string> {
  const name = `bk_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export function sharedPostgresUrl(): string {
  const url = process.env[PG_URL_ENV];
  if (!url)
    throw new Error(`${PG_URL_ENV} is not set: run the e2e tests through jest (global setup)`);
  return url;
}

/** Runs one query against a database URL (for assertions on stored rows). */
export async function query<T extends Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
