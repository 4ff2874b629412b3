import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { ConfigError, loadConfigFromProcess } from '../src/config/config.loader';
import { createDataSource } from '../src/database/data-source';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { pendingSchemaChanges, runMigrationsWithLock } from '../src/database/migration-runner';

/**
 * `npm run migration:<run|revert|check|generate> [-- Name]` against the configured database (the embedded
 * one when `bridgekeeper.database.url` is not set), reading configuration exactly as the server does.
 */
const USAGE = 'usage: migrations.ts run | revert | check | generate <PascalCaseName>';

async function main(): Promise<number> {
  const [command, name] = process.argv.slice(2);
  if (!['run', 'revert', 'check', 'generate'].includes(command ?? '')) {
    console.error(USAGE);
    return 2;
  }
  if (command === 'generate' && !/^[A-Z][A-Za-z0-9]+$/.test(name ?? '')) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfigFromProcess();
  const logger = pino({ level: 'warn' });
  let embedded: EmbeddedDatabase | undefined;
  const url =
    config.database.url ?? (embedded = await startEmbeddedPostgres(config.dataDir, logger)).url;
  const dataSource = createDataSource(config, url);
  try {
    await dataSource.initialize();
    switch (command) {
      case 'run': {
        const ran = await runMigrationsWithLock(dataSource);
        console.log(ran.length ? `applied: ${ran.join(', ')}` : 'nothing to apply');
        return 0;
      }
      case 'revert':
        await dataSource.undoLastMigration({ transaction: 'each' });
        console.log('reverted the last migration');
        return 0;
      case 'check': {
        await runMigrationsWithLock(dataSource);
        const drift = await pendingSchemaChanges(dataSource);
        if (drift.length === 0) {
          console.log('migrations match the entities');
          return 0;
        }
        console.error(`entities and migrations differ; missing:\n${drift.join(';\n')}`);
        return 1;
      }
      default: {
        await runMigrationsWithLock(dataSource);
        const sql = await dataSource.driver.createSchemaBuilder().log();
        if (sql.upQueries.length === 0) {
          console.log('no changes: nothing to generate');
          return 0;
        }
        const timestamp = Date.now();
        const file = join(
          __dirname,
          '..',
          'src',
          'database',
          'migrations',
          `${timestamp}-${name}.ts`,
        );
        const lines = (qs: { query: string }[]) =>
          qs.map((q) => `    await queryRunner.query(${JSON.stringify(q.query)});`).join('\n');
        writeFileSync(
          file,
          `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${name}${timestamp} implements MigrationInterface {
  name = '${name}${timestamp}';

  public async up(queryRunner: QueryRunner): Promise<void> {
${lines(sql.upQueries)}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${lines([...sql.downQueries].reverse())}
  }
}
`,
        );
        console.log(
          `wrote ${file}\nadd ${name}${timestamp} to MIGRATIONS in src/database/data-source.ts`,
        );
        return 0;
      }
    }
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  },
);
