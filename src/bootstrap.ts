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
    genReqId: (req: IncomingMessage) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 256 },
    return503OnClosing: true,
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
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route }, seconds);
    if (logger.isLevelEnabled('info'))
      logger.info(
        {
          reqId: request.id,
          method: request.method,
          route,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request',
      );
    done();
  });
  await app.init();
  return app;
}
