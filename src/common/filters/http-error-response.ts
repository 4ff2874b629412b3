import { randomUUID } from 'node:crypto';
import { HttpException } from '@nestjs/common';
import {
  type AppError,
  type ErrorKind,
  assertUnreachable,
  toKnownError,
} from 'src/common/errors/app-error';

export interface HttpErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string; error_id?: string };
  /** Set for unexpected errors: log them under this id. */
  errorId?: string;
}

function forAppError(e: AppError): HttpErrorResponse {
  const kind: ErrorKind = e.kind;
  const body = (error: string) => ({ error, error_description: e.message });
  switch (kind) {
    case 'MISSING_CREDENTIALS':
      // RFC 6750 §3.1: no error code when the request carried no credentials at all.
      return { status: 401, headers: { 'www-authenticate': 'Bearer' }, body: body('unauthorized') };
    case 'INVALID_TOKEN':
      return {
        status: 401,
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        body: body('invalid_token'),
      };
    case 'FORBIDDEN':
      return { status: 403, headers: {}, body: body('forbidden') };
    case 'NOT_FOUND':
      return { status: 404, headers: {}, body: body('not_found') };
    case 'BAD_INPUT':
      return { status: 400, headers: {}, body: body('invalid_request') };
    case 'CONFLICT':
      return { status: 409, headers: {}, body: body('conflict') };
    case 'UNAVAILABLE':
      return {
        status: 503,
        headers: { 'retry-after': String(e.retryAfterSeconds ?? 5) },
        body: body('temporarily_unavailable'),
      };
    default:
      return assertUnreachable(kind);
  }
}

const STATUS_ERRORS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  413: 'request_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  431: 'request_header_fields_too_large',
};

/** An error answer for an HTTP status alone: `{ error, error_description }`, no extra headers. */
export function httpStatusResponse(status: number, description: string): HttpErrorResponse {
  return {
    status,
    headers: {},
    body: { error: STATUS_ERRORS[status] ?? 'invalid_request', error_description: description },
  };
}

/**
 * The one REST error mapping: domain errors by kind, framework HTTP errors by status, and everything else
 * as a generic 500 with an `error_id` (the cause is logged under that id, never sent).
 */
export function httpErrorResponse(err: unknown): HttpErrorResponse {
  const known = toKnownError(err);
  if (known) return forAppError(known);
  let status: number | undefined;
  let description: string | undefined;
  if (err instanceof HttpException) {
    status = err.getStatus();
    const resp = err.getResponse() as { message?: string | string[] } | string;
    const msg = typeof resp === 'string' ? resp : resp.message;
    description = Array.isArray(msg) ? msg.join('; ') : msg;
  } else {
    // Fastify's own 4xx errors (bad JSON, body too large, unsupported media type): keep the status,
    // not the message, which can echo request input.
    // `?.`: a rejection with `undefined` or `null` must still become a 500, not a TypeError here.
    // (Nest hands Fastify's own errors over as HttpExceptions: their messages are fixed texts.)
    const statusCode = (err as { statusCode?: unknown } | null | undefined)?.statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500)
      status = statusCode;
  }
  if (status !== undefined && status < 500) {
    return httpStatusResponse(status, description ?? 'The request was not valid');
  }
  if (status === 503) {
    return {
      status,
      headers: { 'retry-after': '5' },
      body: {
        error: 'temporarily_unavailable',
        error_description: 'The service is temporarily unavailable; try again shortly',
      },
    };
  }
  const errorId = randomUUID();
  return {
    status: 500,
    headers: {},
    body: { error: 'server_error', error_description: 'Internal server error', error_id: errorId },
    errorId,
  };
}
