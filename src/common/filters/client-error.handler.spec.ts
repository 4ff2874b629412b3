import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { clientErrorHandler } from 'src/common/filters/client-error.handler';

/** Just what the handler touches of a server socket. */
class FakeSocket extends EventEmitter {
  writable = true;
  destroyed = false;
  written: string[] = [];
  _httpMessage: (EventEmitter & { writableFinished: boolean }) | null = null;
  end = jest.fn((data?: string) => {
    if (data) this.written.push(data);
  });
  destroy = jest.fn(() => {
    this.destroyed = true;
  });
}

function setup() {
  const lines: unknown[] = [];
  const logger = { info: (obj: unknown) => lines.push(obj) } as unknown as Logger;
  const refused: number[] = [];
  const handle = clientErrorHandler(logger, (s) => refused.push(s));
  const error = (code: string, rawPacket?: Buffer) =>
    Object.assign(new Error(code), { code, rawPacket }) as NodeJS.ErrnoException;
  return { handle, error, lines, refused };
}

describe('clientErrorHandler', () => {
  it('answers a header overflow with 431 in the error format, closing the connection', () => {
    const { handle, error, lines, refused } = setup();
    const socket = new FakeSocket();
    handle(
      error('HPE_HEADER_OVERFLOW', Buffer.from('Authorization: Bearer eyJsecret')),
      socket as unknown as Socket,
    );
    expect(socket.written).toHaveLength(1);
    const [head, body] = socket.written[0].split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(head).toContain('\r\nConnection: close');
    expect(head).toContain('\r\nCache-Control: no-store');
    expect(head).toMatch(/\r\nX-Request-Id: [0-9a-f-]{36}/);
    expect(head).toContain(`\r\nContent-Length: ${Buffer.byteLength(body)}`);
    expect(JSON.parse(body)).toMatchObject({ error: 'request_header_fields_too_large' });
    expect(refused).toEqual([431]);
    // The raw request bytes Node attaches to the error never reach a log line.
    expect(JSON.stringify(lines)).not.toContain('eyJsecret');
    // The peer closing its side ends the connection.
    socket.emit('end');
    expect(socket.destroy).toHaveBeenCalled();
  });

  it('answers other parse errors with 400, and a timeout with 408', () => {
    const { handle, error } = setup();
    const bad = new FakeSocket();
    handle(error('HPE_INVALID_METHOD'), bad as unknown as Socket);
    expect(bad.written[0]).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const slow = new FakeSocket();
    handle(error('ERR_HTTP_REQUEST_TIMEOUT'), slow as unknown as Socket);
    expect(slow.written[0]).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('answers once per connection, however often the parser reports the same socket', () => {
    const { handle, error, refused } = setup();
    const socket = new FakeSocket();
    for (let i = 0; i < 3; i++) handle(error('HPE_HEADER_OVERFLOW'), socket as unknown as Socket);
    expect(socket.end).toHaveBeenCalledTimes(1);
    expect(refused).toEqual([431]);
  });

  it('never writes to a socket that is not writable, or after a reset', () => {
    const { handle, error } = setup();
    const closed = new FakeSocket();
    closed.writable = false;
    handle(error('HPE_HEADER_OVERFLOW'), closed as unknown as Socket);
    expect(closed.end).not.toHaveBeenCalled();
    expect(closed.destroy).toHaveBeenCalled();
    const reset = new FakeSocket();
    handle(error('ECONNRESET'), reset as unknown as Socket);
    expect(reset.end).not.toHaveBeenCalled();
  });

  it('waits for the answer to an earlier pipelined request before answering', () => {
    const { handle, error } = setup();
    const socket = new FakeSocket();
    const inFlight = Object.assign(new EventEmitter(), { writableFinished: false });
    socket._httpMessage = inFlight;
    handle(error('HPE_HEADER_OVERFLOW'), socket as unknown as Socket);
    expect(socket.end).not.toHaveBeenCalled();
    inFlight.writableFinished = true;
    inFlight.emit('finish');
    inFlight.emit('close');
    expect(socket.written[0]).toMatch(/^HTTP\/1\.1 431 /);
    expect(socket.destroy).not.toHaveBeenCalled();
  });
});
