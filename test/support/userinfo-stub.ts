import { createServer, type Server } from 'node:http';
import { freePort } from './ports';

export interface UserinfoAnswer {
  status: number;
  body?: unknown;
  delayMs?: number;
}

/** A userinfo endpoint the test controls: answers per bearer token, counts calls, can go down. */
export class UserinfoStub {
  readonly answers = new Map<string, UserinfoAnswer>();
  /** Every bearer token received, in order. */
  readonly received: string[] = [];
  down = false;
  url = '';
  private server!: Server;

  static async start(): Promise<UserinfoStub> {
    const stub = new UserinfoStub();
    const port = await freePort();
    stub.url = `http://127.0.0.1:${port}/userinfo`;
    stub.server = createServer((req, res) => {
      if (stub.down) {
        req.socket.destroy();
        return;
      }
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      stub.received.push(token);
      const answer = stub.answers.get(token) ?? { status: 401, body: { error: 'invalid_token' } };
      const send = () =>
        res
          .writeHead(answer.status, { 'content-type': 'application/json' })
          .end(JSON.stringify(answer.body ?? {}));
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
    await new Promise<void>((r) => stub.server.listen(port, '127.0.0.1', r));
    return stub;
  }

  calls(token: string): number {
    return this.received.filter((t) => t === token).length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
