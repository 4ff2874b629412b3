import { randomUUID } from 'node:crypto';
import { BadRequestException, HttpException } from '@nestjs/common';
import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from 'pino';
import {
  AppError,
  type ErrorKind,
  assertUnreachable,
  toKnownError,
} from 'src/common/errors/app-error';

function gqlCode(kind: ErrorKind): string {
  switch (kind) {
    case 'MISSING_CREDENTIALS':
    case 'INVALID_TOKEN':
      return 'UNAUTHENTICATED';
    case 'FORBIDDEN':
      return 'FORBIDDEN';
    case 'NOT_FOUND':
      return 'NOT_FOUND';
    case 'BAD_INPUT':
      return 'BAD_USER_INPUT';
    case 'CONFLICT':
      return 'CONFLICT';
    case 'UNAVAILABLE':
      return 'SERVICE_UNAVAILABLE';
    default:
      return assertUnreachable(kind);
  }
}

/** Apollo's own request-level codes, passed through unchanged. */
const APOLLO_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
  'QUERY_TOO_COMPLEX',
  'UNAUTHENTICATED',
  'SERVICE_UNAVAILABLE',
  // Set by the GraphQL context for refusals before any resolver runs (e.g. On-Behalf-Of).
  'FORBIDDEN',
  'NOT_FOUND',
]);

/** The one GraphQL error mapping: module codes → `extensions.code`; unknown errors → generic + errorId. */
export function formatGraphqlError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const known = toKnownError(original);
    const base = {
      message: formatted.message,
      locations: formatted.locations,
      path: formatted.path,
    };
    if (known) {
      const code = gqlCode(known.kind);
      const authFailure = known.kind === 'INVALID_TOKEN' || known.kind === 'MISSING_CREDENTIALS';
      return {
        ...base,
        message: known.message,
        extensions: authFailure ? { code } : { code, errorCode: known.code },
      };
    }
    if (original instanceof BadRequestException) {
      const resp = original.getResponse() as { message?: string | string[] };
      const msg = Array.isArray(resp.message)
        ? resp.message.join('; ')
        : (resp.message ?? 'Invalid input');
      return { ...base, message: msg, extensions: { code: 'BAD_USER_INPUT' } };
    }
    if (original instanceof HttpException && original.getStatus() < 500) {
      return { ...base, message: original.message, extensions: { code: 'BAD_REQUEST' } };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && APOLLO_CODES.has(code) && !(original instanceof AppError)) {
      return { ...base, extensions: { code } };
    }
    const errorId = randomUUID();
    logger.error({ errorId, err: original }, 'unhandled GraphQL error');
    return {
      message: 'Internal server error',
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR', errorId },
    };
  };
}
