import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A userinfo endpoint for the userinfo-validated issuer, in the benchmark process: it is only called on
 * cache misses, and it counts its calls per token so the single-flight claim can be checked.
 */
export interface UserinfoIdp {
  url: string;
  issuer: string;
  calls(token?: string): number;
  stop(): Promise<void>;
}

export async function startUserinfoIdp(): Promise<UserinfoIdp> {
  const calls = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    calls.set(token, (calls.get(token) ?? 0) + 1);
    // A little IdP latency, so that concurrent first requests really overlap.
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sub: `ui-${token.slice(-12)}` }));
    }, 20);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/userinfo`,
    issuer: `http://127.0.0.1:${port}`,
    calls: (token) =>
      token === undefined
        ? [...calls.values()].reduce((a, b) => a + b, 0)
        : (calls.get(token) ?? 0),
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
