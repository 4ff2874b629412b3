import pino, { type DestinationStream, type Logger } from 'pino';

/** What one access-log line says about a finished request. */
export interface AccessLogEntry {
  reqId: string;
  method: string;
  /** The route pattern (`/oauth2/userinfo`, `/actors/:id`) or `unmatched`: never the URL. */
  route: string;
  status: number;
  /** Milliseconds, as measured by Fastify. */
  ms: number;
}

/**
 * The access log: one JSON line per request (`msg: "request"`, at info), or only errors (status >= 400),
 * or errors and 1 in N of the rest (`bridgekeeper.log.access`), written to the logger's destination.
 *
 * It is the most frequent log line by far, so it is built here, not by pino: its fields are ours and
 * few (no header, no query string, no body, nothing a caller chose except a validated request id), so
 * the line needs no redaction pass, no generic serialisation, and its timestamp is formatted at most
 * once per millisecond. The line is the one pino would write (same level, time and base fields). The
 * lines of one event-loop turn are written together at its end (or every 4 KiB).
 */
export function createAccessLog(
  logger: Logger,
  policy: { sampleEvery: number },
): (entry: AccessLogEntry) => void {
  const stream = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  const bindings = JSON.stringify(logger.bindings()).slice(1, -1);
  const prefix = '{"level":"info","time":"';
  const afterTime = `"${bindings ? `,${bindings}` : ''},"reqId":`;
  const { sampleEvery } = policy;
  let unsampled = 0;
  let lastMs = 0;
  let lastTime = '';
  // Lines of one event-loop turn go to the destination as one write (the destination measures the byte
  // length of every string it is given: once per batch instead of once per line).
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const chunk = pending;
    pending = '';
    if (chunk) stream.write(chunk);
  };
  return (e) => {
    if (e.status < 400) {
      if (sampleEvery === 0 || ++unsampled < sampleEvery) return;
      unsampled = 0;
    }
    if (!logger.isLevelEnabled('info')) return;
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      lastTime = new Date(now).toISOString();
    }
    pending +=
      `${prefix}${lastTime}${afterTime}${JSON.stringify(e.reqId)},"method":${JSON.stringify(e.method)},` +
      `"route":${JSON.stringify(e.route)},"status":${e.status},"ms":${e.ms},"msg":"request"}\n`;
    if (pending.length >= 4096) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}
