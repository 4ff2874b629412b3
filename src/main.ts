import 'reflect-metadata';
import { createApp } from 'src/bootstrap';
import { closeGracefully } from 'src/common/lifecycle/graceful-shutdown';
import { createProcessLogger } from 'src/common/logging/logger';
import { startupSummary } from 'src/config/startup-summary';
import { ConfigError, loadConfigFromProcess } from 'src/config/config.loader';
import type { AppConfig } from 'src/config/config.types';
import {
  type EmbeddedDatabase,
  EmbeddedPostgresError,
  startEmbeddedPostgres,
} from 'src/database/embedded-postgres';
import { IssuersService } from 'src/issuers/issuers.service';

/** One line on stderr and a non-zero exit: what went wrong and what to do, never a stack dump. */
function die(message: string, exitCode: number): never {
  process.stderr.write(`bridgekeeper: ${message}\n`);
  process.exit(exitCode);
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfigFromProcess();
  } catch (err) {
    if (err instanceof ConfigError) die(err.message, 2);
    throw err;
  }
  const logger = createProcessLogger(config.log.level, config.log.format);
  for (const warning of config.warnings) logger.warn(warning);

  let embedded: EmbeddedDatabase | undefined;
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  let stopping = false;
  // `on`, not `once`: a terminal's Ctrl-C reaches this process twice through `npm start` (from the
  // terminal and forwarded by npm); a second signal must not kill it halfway through stopping.
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const grace = config.shutdown.graceSeconds;
    logger.info({ signal, graceSeconds: grace }, 'shutting down: draining requests in flight');
    // Whatever hangs (a pool that never closes), the process ends: grace, then 15 s for the pools.
    setTimeout(
      () => {
        logger.error('shutdown did not finish in time: exiting');
        process.exit(1);
      },
      (grace + 15) * 1000,
    ).unref();
    try {
      if (app) await closeGracefully(app, logger, grace);
    } finally {
      await embedded?.stop();
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  if (!config.database.url) {
    try {
      embedded = await startEmbeddedPostgres(config.dataDir, logger);
    } catch (err) {
      const reason = err instanceof EmbeddedPostgresError ? err.message : String(err);
      die(
        `the embedded PostgreSQL could not start: ${reason}. ` +
          'Fix that, or set bridgekeeper.database.url (env BRIDGEKEEPER_DATABASE_URL) to use an external PostgreSQL.',
        1,
      );
    }
    if (stopping) return;
    config = { ...config, database: { ...config.database, url: embedded.url } };
  }
  try {
    app = await createApp(config, logger);
    await app.listen({ port: config.http.port, host: config.http.host });
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    await app?.close().catch(() => undefined);
    await embedded?.stop();
    process.exit(1);
  }
  const summary = startupSummary(config, embedded, app.getHttpServer().address());
  logger.info(summary.fields, summary.message);
  if (app.get(IssuersService).all().length === 0) {
    logger.warn(
      'no trusted issuer: tokens of external identity providers are refused (Bridgekeeper’s own still work). Trust an identity provider: set bridgekeeper.auth.jwt.trusted.issuers=<name> ' +
        'with bridgekeeper.auth.jwt.trusted.issuer.<name>.issuer and .jwks (and .audiences), and bridgekeeper.auth.admins=<name>:<sub> ' +
        'so that admin can add more at runtime with the createTrustedIssuer mutation (README: "Trust an identity provider")',
    );
  }
}

void main();
