import { Writable } from 'node:stream';
import { createLogger } from 'src/common/logging/logger';

// SECURITY rule 14: credentials never reach a log line, wherever a request or headers object is logged.
describe('createLogger redaction', () => {
  const capture = () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    return { logger: createLogger('info', sink), lines };
  };

  it('redacts authorization, cookies and token-like fields', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        req: {
          headers: {
            authorization: 'Bearer eyJsecret.header',
            cookie: 'sid=s3cr3t-cookie',
            host: 'x',
          },
        },
        res: { headers: { 'set-cookie': 'sid=s3cr3t-set-cookie' } },
        headers: { authorization: 'Basic s3cr3t-basic' },
        body: {
          access_token: 's3cr3t-at',
          refresh_token: 's3cr3t-rt',
          client_secret: 's3cr3t-cs',
          password: 's3cr3t-pw',
          token: 's3cr3t-t',
        },
      },
      'request',
    );
    const out = lines.join('');
    expect(out).not.toMatch(/s3cr3t|eyJsecret/);
    expect(out).toContain('[redacted]');
    expect(JSON.parse(out).req.headers.host).toBe('x');
  });
});
