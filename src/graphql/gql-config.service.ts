import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { ApolloDriverConfig } from '@nestjs/apollo';
import { Inject, Injectable } from '@nestjs/common';
import type { GqlOptionsFactory } from '@nestjs/graphql';
import type { FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { AppError, toKnownError } from 'src/common/errors/app-error';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { formatGraphqlError } from 'src/graphql/graphql-errors';
import { queryLimitsPlugin } from 'src/graphql/plugins/query-limits.plugin';
import { IdentityService } from 'src/identity/identity.service';
import type { Principal } from 'src/identity/principal';
import { httpErrorResponse } from 'src/common/filters/http-error-response';

/** `extensions.code` of a refusal while establishing the caller (before any resolver runs). */
const CONTEXT_ERROR_CODES: Record<number, string> = {
  400: 'BAD_USER_INPUT',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  503: 'SERVICE_UNAVAILABLE',
};

export interface GqlContext {
  req: FastifyRequest & { principal?: Principal };
}

/**
 * Apollo options. Authentication happens once per HTTP request in the context function, so a missing or
 * invalid token is an HTTP 401 with `WWW-Authenticate`, exactly as on REST, and no anonymous caller ever
 * reaches execution or introspection.
 */
@Injectable()
export class GqlConfigService implements GqlOptionsFactory<ApolloDriverConfig> {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly identity: IdentityService,
  ) {}

  createGqlOptions(): ApolloDriverConfig {
    return {
      path: '/graphql',
      autoSchemaFile: true,
      sortSchema: true,
      graphiql: false,
      introspection: true,
      includeStacktraceInErrorResponses: false,
      playground: false,
      // Automatic persisted queries are not offered: no client of an admin API needs them, and they
      // would keep caller-chosen documents in memory.
      persistedQueries: false,
      plugins: [
        queryLimitsPlugin(this.config.graphql),
        // We set no cache hints; Apollo's cache-control plugin would still wrap every field resolver.
        ApolloServerPluginCacheControlDisabled(),
        ApolloServerPluginLandingPageDisabled(),
        // Apollo installs these by itself (inline tracing on every request, reporting when an APOLLO_KEY
        // is in the environment): nothing of ours uses them, and no operation or trace leaves the node.
        ApolloServerPluginInlineTraceDisabled(),
        ApolloServerPluginUsageReportingDisabled(),
        ApolloServerPluginSchemaReportingDisabled(),
      ],
      formatError: formatGraphqlError(this.logger),
      // The caller, once per HTTP request; the context is the request itself wrapped once.
      context: (req: GqlContext['req']): Promise<GqlContext> =>
        this.identity.authenticateRequest(req).then(
          (principal) => {
            req.principal = principal;
            return { req };
          },
          (err: unknown) => {
            throw this.httpError(err);
          },
        ),
    };
  }

  private httpError(err: unknown): GraphQLError {
    const known = toKnownError(err);
    if (!(known instanceof AppError)) {
      this.logger.error({ err }, 'authentication failed unexpectedly');
    }
    const response = httpErrorResponse(known ?? err);
    const code = CONTEXT_ERROR_CODES[response.status] ?? 'INTERNAL_SERVER_ERROR';
    return new GraphQLError(response.body.error_description, {
      extensions: {
        code,
        http: { status: response.status, headers: new Map(Object.entries(response.headers)) },
      },
    });
  }
}
