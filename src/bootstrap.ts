import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type FastifyBaseLogger, LogController } from 'fastify';
import type { Logger } from 'pino';
import { AppModule } from 'src/app.module';
import { clientErrorHandler } from 'src/common/filters/client-error.handler';
import { PinoNestLogger } from 'src/common/logging/logger';
import { registerBodyRules } from 'src/common/validation/accepts-body';
import type { AppConfig } from 'src/config/config.types';
import { createAccessLog } from 'src/metrics/access-log';
import { MetricsService } from 'src/metrics/metrics.service';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Builds the application (not yet listening): Fastify with a bounded body, a request id on every request
 * (accepted from `X-Request-Id` when well-formed, echoed back), one JSON log line per request without
 * headers or query string, and request metrics. Used by `main.ts`, the tests and the benchmark alike.
 */
export async function createApp(
  config: AppConfig,
  logger: Logger,
): Promise<NestFastifyApplication> {
  // Set once the application exists: requests refused before routing are counted like the others.
  const refusals: { count?: (status: number) => void } = {};
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // One log line per request is written by our onResponse hook below, not by Fastify.
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: building one runs pino's redaction over its bindings on every
    // request (~8% of a cached-token request). Our log lines carry `reqId` explicitly instead.
    childLoggerFactory: (parent: FastifyBaseLogger) => parent,
    requestIdHeader: false,
    // `request.ip` (login throttling per address) is the connecting address unless it is a configured
    // reverse proxy, whose `X-Forwarded-For` then names the client.
    trustProxy:
      config.http.trustedProxies.length > 0 ? config.http.trustedProxies.join(',') : false,
    genReqId: (req: IncomingMessage) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 256 },
    // While draining (SIGTERM), a request on a connection already accepted is served, not refused with
    // 503: it may have been sent before the balancer knew (src/common/lifecycle/graceful-shutdown.ts).
    return503OnClosing: false,
    clientErrorHandler: clientErrorHandler(logger, (status) => refusals.count?.(status)),
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, logger),
    adapter,
    {
      logger: new PinoNestLogger(logger),
      bufferLogs: false,
    },
  );
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );

  const metrics = app.get(MetricsService);
  const fastify = app.getHttpAdapter().getInstance();
  refusals.count = (status) =>
    metrics.httpRequests.inc({ method: 'unknown', route: 'unmatched', status: String(status) });
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    // GraphQL answers are per-caller (REST routes set this on their handlers).
    if (request.routeOptions.url === '/graphql') void reply.header('cache-control', 'no-store');
    done();
  });
  registerBodyRules(fastify);
  // Per request: metrics, and the access log (see createAccessLog: built without pino's generic path).
  const accessLog = createAccessLog(logger, config.log.access);
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.recordHttp(request.method, route, status, reply.elapsedTime / 1000);
    accessLog({
      reqId: request.id,
      method: request.method,
      route,
      status,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    });
    done();
  });
  await app.init();
  return app;
}
