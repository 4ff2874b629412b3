import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { ShutdownState } from 'src/common/lifecycle/shutdown-state';

export interface ShutdownOutcome {
  /** The grace period ended with requests still in flight: their connections were closed. */
  forced: boolean;
}

/**
 * Stops a node without losing a request in flight, in this order:
 * 1. `/health/ready` answers 503 from now on; the listening socket closes (new connections are refused:
 *    a load balancer retries them elsewhere) and idle keep-alive connections close; a request that
 *    still arrives on a connection the node had accepted is served, with `Connection: close`;
 * 2. requests in flight finish, for at most `graceSeconds`; connections still busy then are closed;
 * 3. the application closes (Nest shutdown hooks: PostgreSQL pool, Redis clients, timers).
 * Nest closes the HTTP server before its shutdown hooks, so pools stay usable until the last answer.
 */
export async function closeGracefully(
  app: INestApplication,
  logger: Logger,
  graceSeconds: number,
): Promise<ShutdownOutcome> {
  app.get(ShutdownState, { strict: false }).draining = true;
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
