import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from 'src/config/config.loader';
import { OutboundError, OutboundHttpService } from 'src/outbound/outbound-http.service';

// Real HTTP on loopback: every call to an IdP is bounded (SECURITY rule 8).
describe('OutboundHttpService', () => {
  let server: Server;
  let base: string;
  const config = loadConfig({
    env: {},
    cwd: __dirname,
    overrides: {
      'bridgekeeper.outbound.timeout.ms': '300',
      'bridgekeeper.outbound.max.response.bytes': '2048',
    },
  });
  const http = new OutboundHttpService(config);

  beforeAll(async () => {
    server = createServer((req, res) => {
      switch (req.url) {
        case '/ok':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
          break;
        case '/redirect':
          res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
          break;
        case '/big':
          res.writeHead(200).end('x'.repeat(10_000));
          break;
        case '/big-chunked':
          res.writeHead(200);
          for (let i = 0; i < 10; i++) res.write('y'.repeat(1000));
          res.end();
          break;
        case '/slow': {
          const timer = setTimeout(() => res.writeHead(200).end('late'), 2000);
          res.on('close', () => clearTimeout(timer));
          break;
        }
        default:
          res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const failure = async (url: string) => {
    try {
      await http.request(url);
    } catch (err) {
      expect(err).toBeInstanceOf(OutboundError);
      return (err as OutboundError).failure;
    }
    throw new Error('expected a failure');
  };

  it('returns status, headers and body', async () => {
    const res = await http.request(`${base}/ok`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('{"keys":[]}');
  });

  it('does not follow redirects', async () => {
    expect(await failure(`${base}/redirect`)).toBe('redirect');
  });

  it('caps the response size, declared or streamed', async () => {
    expect(await failure(`${base}/big`)).toBe('too_large');
    expect(await failure(`${base}/big-chunked`)).toBe('too_large');
  });

  it('times out', async () => {
    expect(await failure(`${base}/slow`)).toBe('timeout');
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/',
    'http://[fe80::1]/',
    'http://metadata.google.internal/computeMetadata/v1/',
  ])('refuses %s before connecting', async (url) => {
    expect(await failure(url)).toBe('refused_address');
  });

  it('refuses other schemes', async () => {
    expect(await failure('file:///etc/passwd')).toBe('bad_url');
  });
});
