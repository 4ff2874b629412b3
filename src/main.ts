import 'reflect-metadata';
import { createApp } from 'src/bootstrap';
import { createLogger } from 'src/common/logging/logger';
import { ConfigError, loadConfigFromProcess } from 'src/config/config.loader';
import type { AppConfig } from 'src/config/config.types';
import { type EmbeddedDatabase, startEmbeddedPostgres } from 'src/database/embedded-postgres';

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfigFromProcess();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`bridgekeeper: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.log.level);
  let embedded: EmbeddedDatabase | undefined;
  if (!config.database.url) {
    embedded = await startEmbeddedPostgres(config.dataDir, logger);
    config = { ...config, database: { ...config.database, url: embedded.url } };
  }
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await app?.close();
    } finally {
      await embedded?.stop();
    }
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  try {
    app = await createApp(config, logger);
    await app.listen({ port: config.http.port, host: config.http.host });
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    await app?.close().catch(() => undefined);
    await embedded?.stop();
    process.exit(1);
  }
  logger.info(
    {
      url: config.publicUrl,
      issuers: config.issuers.map((i) => i.name),
      cache: config.redis.url ? 'redis' : 'memory',
    },
    'Bridgekeeper is listening',
  );
}

void main();
