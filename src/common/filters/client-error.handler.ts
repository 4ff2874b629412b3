import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { httpStatusResponse } from 'src/common/filters/http-error-response';

/** How long a refused connection may keep sending before it is cut (its rest is read and dropped). */
const LINGER_MS = 2000;

const REFUSALS: Record<string, { status: number; description: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    description: 'The request headers are larger than the server accepts',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, description: 'The request took too long to arrive' },
};
const MALFORMED = { status: 400, description: 'The request is not valid HTTP' };

/** A socket Node's HTTP server tracks: the response in flight on it, if any. */
type ServerSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * Node's `clientError` handler (Fastify's `clientErrorHandler`): a request Node cannot parse (headers
 * over the limit, malformed HTTP, a request that never finished) never reaches Fastify, so it is
 * answered here in the one error format, with a fresh `X-Request-Id`, `Cache-Control: no-store` and
 * `Connection: close`, so that a keep-alive client never sends its next request on this socket.
 * The socket is half-closed after the answer and destroyed once the client closes its side (or after
 * a short linger), so that unread request bytes do not turn the close into a reset that loses the answer.
 * The error itself is never logged: Node attaches the raw request bytes (headers, tokens) to it.
 */
export function clientErrorHandler(
  logger: Logger,
  onRefused?: (status: number) => void,
): (err: NodeJS.ErrnoException, socket: Socket) => void {
  const handled = new WeakSet<Socket>();
  return (err, socket: ServerSocket) => {
    // The parser reports every later chunk of a refused connection again: answer only once.
    if (handled.has(socket)) return;
    handled.add(socket);
    if (err.code === 'ECONNRESET' || socket.destroyed) {
      socket.destroy();
      return;
    }
    const refusal = (err.code && REFUSALS[err.code]) || MALFORMED;
    const reqId = randomUUID();
    logger.info(
      { reqId, status: refusal.status, code: err.code },
      'request refused before routing',
    );
    onRefused?.(refusal.status);
    // An earlier request of the same connection (pipelined) is answered first, never cut or corrupted.
    const inFlight = socket._httpMessage;
    if (inFlight && !inFlight.writableFinished) {
      inFlight.once('finish', () => answer(socket, reqId, refusal.status, refusal.description));
      inFlight.once('close', () => inFlight.writableFinished || socket.destroy());
    } else {
      answer(socket, reqId, refusal.status, refusal.description);
    }
  };
}

function answer(socket: Socket, reqId: string, status: number, description: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const res = httpStatusResponse(status, description);
  const body = JSON.stringify(res.body);
  const head = [
    `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Request-Id: ${reqId}`,
    'Cache-Control: no-store',
    'Connection: close',
  ];
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
  socket.once('end', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}
