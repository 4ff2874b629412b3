import { createServer } from 'node:http';

// A bare node:http server answering one fixed JSON document (from env BENCH_BODY) on every request.
// The benchmark runs it as the ceiling and as the local issuer's JWKS endpoint. It listens on a free
// loopback port and reports it as one line of JSON on stdout: {"port":12345}.

const body = Buffer.from(process.env.BENCH_BODY ?? '{}');
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };

const server = createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
