import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';

export interface ShutdownOutcome {
  /** The grace period ended with requests still in flight: their connections were closed. */
  forced: boolean;
}

/**
 * Stops a node without losing a request in flight, in this order:
 * 1. the listening socket closes (new connections are refused: a load balancer retries them elsewhere)
 *    and every request that still arrives on an open keep-alive connection, `/health/ready` included,
 *    answers 503 with `Connection: close` (Fastify `return503OnClosing`); idle connections close;
 * 2. requests in flight finish, for at most `graceSeconds`; connections still busy then are closed;
 * 3. the application closes (Nest shutdown hooks: PostgreSQL pool, Redis clients, timers).
 * Nest closes the HTTP server before its shutdown hooks, so pools stay usable until the last answer.
 */
export async function closeGracefully(
  app: INestApplication,
  logger: Logger,
  graceSeconds: number,
): Promise<ShutdownOutcome> {
  const server = app.getHttpServer() as Server;
  const outcome: ShutdownOutcome = { forced: false };
  const timer = setTimeout(() => {
    outcome.forced = true;
    server.getConnections((_err, connections) =>
      logger.warn(
        { graceSeconds, connections },
        'shutdown grace period over: closing the connections still busy',
      ),
    );
    server.closeAllConnections();
  }, graceSeconds * 1000);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
  return outcome;
}
