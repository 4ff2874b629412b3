import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Controller, Get, Module, ValidationPipe } from '@nestjs/common';
import { Field, GraphQLModule, ID, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type FastifyBaseLogger, LogController } from 'fastify';
import pino from 'pino';

// The framework floor: NestJS on Fastify with the adapter options of src/bootstrap.ts (kept in step by
// hand), one GET route answering BENCH_BODY, and Apollo (the driver and plugins of
// src/graphql/gql-config.service.ts) answering `{ me { id } }` from a constant: no guard, no
// authentication, no access log, no metrics. Reports its port as one JSON line on stdout, like
// static-json.ts.

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const body = JSON.parse(process.env.BENCH_BODY ?? '{}') as Record<string, unknown>;

@Controller()
class BareController {
  @Get()
  get(): Record<string, unknown> {
    return body;
  }
}

@ObjectType()
class Me {
  @Field(() => ID)
  id: string;
}

@Resolver()
class BareResolver {
  @Query(() => Me)
  me(): Me {
    return { id: '00000000-0000-4000-8000-000000000000' };
  }
}

@Module({
  imports: [
    GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      path: '/graphql',
      autoSchemaFile: true,
      graphiql: false,
      playground: false,
      persistedQueries: false,
      plugins: [
        ApolloServerPluginCacheControlDisabled(),
        ApolloServerPluginLandingPageDisabled(),
        ApolloServerPluginInlineTraceDisabled(),
        ApolloServerPluginUsageReportingDisabled(),
        ApolloServerPluginSchemaReportingDisabled(),
      ],
    }),
  ],
  controllers: [BareController],
  providers: [BareResolver],
})
class BareModule {}

async function main(): Promise<void> {
  const logger = pino({ level: 'warn' });
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (parent: FastifyBaseLogger) => parent,
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 256 },
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(BareModule, adapter, {
    logger: false,
  });
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
  process.once('SIGTERM', () => process.exit(0));
}

void main();
