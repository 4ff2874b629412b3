/**
 * The one error type domain code throws. `kind` decides the status on every transport; `code` is the
 * module's stable SCREAMING_SNAKE code; `message` is safe to show to the caller (never a token or claim).
 */
export type ErrorKind =
  | 'MISSING_CREDENTIALS'
  | 'INVALID_TOKEN'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_INPUT'
  | 'CONFLICT'
  | 'UNAVAILABLE';

export interface AppErrorOptions {
  cause?: unknown;
  /** Seconds a client should wait before retrying (UNAVAILABLE). */
  retryAfterSeconds?: number;
  /** Internal detail for logs and metrics only; never sent to the caller. */
  reason?: string;
}

export class AppError extends Error {
  readonly retryAfterSeconds?: number;
  readonly reason?: string;

  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.reason = options.reason;
  }
}

/**
 * The one description every refused bearer token gets, whichever module refused it (token validation,
 * a disabled actor, an inactive membership): nothing about which check failed (SECURITY.md rule 4).
 */
export const INVALID_TOKEN_DESCRIPTION = 'The access token is invalid or expired';

export function assertUnreachable(value: never): never {
  throw new Error(`unreachable: ${String(value)}`);
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '57014', // query_canceled (statement timeout)
]);

/**
 * True when an error means "the database cannot answer now", which must become a 503 and never be read
 * as "not found" (SECURITY.md rule 18).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const rec = e as { code?: unknown; driverError?: unknown; cause?: unknown; message?: unknown };
    const code = typeof rec.code === 'string' ? rec.code : undefined;
    if (code && (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08'))) return true;
    const msg = typeof rec.message === 'string' ? rec.message : '';
    if (
      /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is not established|the database system is (starting up|shutting down)/i.test(
        msg,
      )
    ) {
      return true;
    }
    e = rec.driverError ?? rec.cause;
  }
  return false;
}

export function databaseUnavailable(cause: unknown): AppError {
  return new AppError(
    'UNAVAILABLE',
    'DATABASE_UNAVAILABLE',
    'The service is temporarily unavailable',
    {
      cause,
      retryAfterSeconds: 5,
      reason: 'database_unavailable',
    },
  );
}

/** Normalises anything thrown into an AppError when it is one we understand, else returns undefined. */
export function toKnownError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (isDatabaseUnavailable(err)) return databaseUnavailable(err);
  return undefined;
}
