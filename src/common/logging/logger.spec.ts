import { Writable } from 'node:stream';
import {
  createLogger,
  createProcessLogger,
  fingerprint,
  prettyLine,
} from 'src/common/logging/logger';

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

describe('createLogger redaction, field by field', () => {
  const logLine = (obj: object, level = 'info'): Record<string, unknown> => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    createLogger(level, sink).info(obj, 'm');
    expect(lines).toHaveLength(1);
    return JSON.parse(lines[0]) as Record<string, unknown>;
  };

  it('writes JSON lines with the service name, a label level and an ISO time', () => {
    const line = logLine({ actor: 'a1' });
    expect(line).toMatchObject({ level: 'info', service: 'bridgekeeper', actor: 'a1', msg: 'm' });
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
  });

  it('writes nothing below the configured level', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger('warn', sink);
    logger.info({ token: 'x' }, 'hidden');
    logger.warn('shown');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('shown');
  });

  it.each([
    'authorization',
    'access_token',
    'refresh_token',
    'id_token',
    'client_secret',
    'password',
    'token',
  ])('redacts %s at the top of a log object and one level down', (field) => {
    const line = logLine({ [field]: 's3cr3t-top', body: { [field]: 's3cr3t-nested' } });
    expect(JSON.stringify(line)).not.toContain('s3cr3t');
    expect(line[field]).toBe('[redacted]');
    expect((line.body as Record<string, unknown>)[field]).toBe('[redacted]');
  });

  it('redacts request and response credentials, whatever the case of Authorization', () => {
    const line = logLine({
      req: {
        method: 'GET',
        headers: {
          authorization: 'Bearer s3cr3t-1',
          cookie: 'sid=s3cr3t-2',
          'proxy-authorization': 'Basic s3cr3t-3',
        },
      },
      res: { statusCode: 200, headers: { 'set-cookie': ['sid=s3cr3t-4'] } },
      headers: { Authorization: 'Bearer s3cr3t-5', cookie: 's3cr3t-6' },
    });
    expect(JSON.stringify(line)).not.toContain('s3cr3t');
    expect(line).toMatchObject({
      req: { method: 'GET', headers: { authorization: '[redacted]', cookie: '[redacted]' } },
      res: { statusCode: 200, headers: { 'set-cookie': '[redacted]' } },
    });
  });

  it('leaves non-secret fields, and fingerprints, as they are', () => {
    const line = logLine({ issuer: 'corp', tokenFingerprint: 'ab12cd34ef56', reason: 'expired' });
    expect(line).toMatchObject({
      issuer: 'corp',
      tokenFingerprint: 'ab12cd34ef56',
      reason: 'expired',
    });
  });
});

describe('fingerprint', () => {
  it('is the first 12 hex characters of a digest', () => {
    const digest = 'a'.repeat(20) + 'b'.repeat(44);
    expect(fingerprint(digest)).toBe('aaaaaaaaaaaa');
    expect(fingerprint(digest)).toHaveLength(12);
  });
});

describe('pretty log lines', () => {
  it('turns a JSON line into one readable line, keeping fields and redaction', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l: string) => void lines.push(prettyLine(l)) });
    logger.info({ route: '/x', status: 200, authorization: 'Bearer s3cr3t' }, 'request done');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}request done route=\/x status=200 authorization=\[redacted\]\n$/,
    );
    expect(lines[0]).not.toContain('s3cr3t');
  });

  it('shows an error stack below the line, and passes non-JSON through', () => {
    const out = prettyLine(
      JSON.stringify({
        level: 'error',
        msg: 'boom',
        err: { message: 'x', stack: 'Error: x\n at y' },
      }),
    );
    expect(out).toBe('ERROR boom\n  Error: x\n   at y\n');
    expect(prettyLine('plain')).toBe('plain');
  });

  it('chooses JSON when standard output is not a terminal', () => {
    const written: string[] = [];
    const out = {
      isTTY: false,
      write: (s: string) => written.push(s),
    } as unknown as NodeJS.WriteStream;
    const pretty = createProcessLogger('info', 'pretty', out);
    pretty.info('hello');
    expect(written[0]).toMatch(/INFO {2}hello/);
    expect(createProcessLogger('info', 'auto', out)).toBeDefined();
  });
});
