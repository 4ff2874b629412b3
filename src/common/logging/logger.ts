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

/** The application logger: JSON lines on stdout, or on `destination` (tests capture logs this way). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
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

export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * The process logger on standard output: JSON lines, or one readable line per entry when `format` is
 * `pretty` (or `auto` on a terminal). Redaction happens before either format sees a line.
 */
export function createProcessLogger(
  level: string,
  format: LogFormat,
  out: NodeJS.WriteStream = process.stdout,
): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && out.isTTY === true);
  if (!pretty) return createLogger(level);
  const colors = out.isTTY === true;
  return createLogger(level, { write: (line: string) => void out.write(prettyLine(line, colors)) });
}

const LEVEL_COLORS: Record<string, string> = {
  fatal: '\x1b[41m',
  error: '\x1b[31m',
  warn: '\x1b[33m',
  info: '\x1b[32m',
  debug: '\x1b[36m',
  trace: '\x1b[90m',
};
const OMITTED = new Set(['level', 'time', 'msg', 'service', 'err']);

/** One JSON log line as `12:00:00.000 INFO  message key=value …` (and an error's stack below it). */
export function prettyLine(json: string, colors = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = String(entry.level ?? '');
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const label = level.toUpperCase().padEnd(5);
  const fields = Object.entries(entry)
    .filter(([k, v]) => !OMITTED.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  const err = entry.err as { message?: string; stack?: string } | undefined;
  const head = [time, colors ? `${LEVEL_COLORS[level] ?? ''}${label}\x1b[0m` : label, entry.msg]
    .filter((p) => p !== undefined && p !== '')
    .join(' ');
  const tail = fields.length
    ? ` ${colors ? '\x1b[90m' : ''}${fields.join(' ')}${colors ? '\x1b[0m' : ''}`
    : '';
  const stack = err ? `\n  ${(err.stack ?? err.message ?? '').split('\n').join('\n  ')}` : '';
  return `${head}${tail}${stack}\n`;
}

/** Nest's start-up chatter (one line per module and route): debug, so the start-up line stands out. */
const NEST_BOOT_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
  'GraphQLModule',
]);

/** Lets Nest's own messages (bootstrap, route mapping, errors) go through the same pino logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string) {
    if (context !== undefined && NEST_BOOT_CONTEXTS.has(context))
      this.logger.debug({ context }, String(message));
    else this.logger.info({ context }, String(message));
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
