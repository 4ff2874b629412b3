// Runs an embedded PostgreSQL (through Bridgekeeper's own startEmbeddedPostgres) in its own process, so a
// test can stop and restart it. Jest workers cannot load the ESM-only platform binary package; a plain
// Node process can. Usage: node -r @swc-node/register pg-process.ts <dataDir> <port>
import pino from 'pino';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';

async function main(): Promise<void> {
  const [dataDir, port] = process.argv.slice(2);
  const db = await startEmbeddedPostgres(dataDir, pino({ level: 'silent' }), {
    port: Number(port),
  });
  process.stdout.write(JSON.stringify({ url: db.url }) + '\n');
  const stop = () => void db.stop().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
