import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';

/** Field names that hold credentials wherever they appear. */
const SECRET_FIELDS = [
  'authorization',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'password',
  'token',
];

/** Paths redacted from every log line, wherever a request or headers object is logged. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.Authorization',
  // `*.x` matches one level down only: the same fields at the top of a log object too.
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...SECRET_FIELDS,
];

/**
 * Standard output, buffered: lines are written in batches of about 4 KiB, and at least every 250 ms
 * when traffic is low, instead of one blocking `write(2)` per line on the request path. pino writes
 * what is left synchronously when the process exits (normal end, `process.exit`, uncaught error).
 */
export function bufferedStdout(): DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 250 });
}

/**
 * The application logger: JSON lines on stdout (buffered, see above), or on `destination` (tests
 * capture logs this way).
 */
export function createLogger(
  level: string,
  destination: DestinationStream = bufferedStdout(),
): Logger {
  return pino(
    {
      level,
      base: { service: 'bridgekeeper' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Lets Nest's own messages (bootstrap, route mapping, errors) go through the same pino logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}

/** A short, non-reversible fingerprint to log instead of a token or secret (SECURITY.md rule 14). */
export function fingerprint(hexDigest: string): string {
  return hexDigest.slice(0, 12);
}
