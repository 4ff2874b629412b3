import { checkUserinfoReachable, EndpointError, fetchKeySet } from 'src/issuers/issuer-endpoints';
import { KeySetStatusBoard } from 'src/issuers/key-set-status';
import {
  OutboundError,
  type OutboundHttpService,
  type OutboundResponse,
} from 'src/outbound/outbound-http.service';

const URL = 'https://idp.example.com/jwks';

function answering(status: number, body: unknown): OutboundHttpService {
  const res: OutboundResponse = {
    status,
    headers: {},
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  };
  return { request: jest.fn().mockResolvedValue(res) } as unknown as OutboundHttpService;
}

function failing(err: OutboundError): OutboundHttpService {
  return { request: jest.fn().mockRejectedValue(err) } as unknown as OutboundHttpService;
}

async function problemOf(p: Promise<unknown>) {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(EndpointError);
  return { failure: (err as EndpointError).failure, ...(err as EndpointError).problem };
}

const rsa = { kty: 'RSA', kid: 'r1', n: 'AQAB', e: 'AQAB' };
const p256 = { kty: 'EC', kid: 'e1', crv: 'P-256', x: 'x', y: 'y' };

describe('fetchKeySet', () => {
  it('keeps the public signing keys usable with the algorithms', async () => {
    const jwks = await fetchKeySet(
      answering(200, {
        keys: [
          rsa,
          p256,
          { ...rsa, kid: 'enc', use: 'enc' },
          { ...rsa, kid: 'private', d: 'secret' },
          { kty: 'oct', kid: 'sym', k: 'secret' },
          { ...rsa, kid: 'ps', alg: 'PS256' },
        ],
      }),
      URL,
      ['RS256'],
    );
    expect(jwks.keys.map((k) => k.kid)).toEqual(['r1']);
  });

  it.each([
    [404, {}, { failure: 'http_error', httpStatus: 404, message: 'JWKS answered HTTP 404' }],
    [
      200,
      'not json',
      { failure: 'invalid', httpStatus: 200, message: expect.stringMatching(/not JSON/) },
    ],
    [200, { nope: [] }, { failure: 'invalid', message: expect.stringMatching(/no "keys" array/) }],
    [
      200,
      { keys: [rsa] },
      { failure: 'invalid', message: expect.stringMatching(/no public signing key for ES256/) },
    ],
  ])('refuses HTTP %s %j', async (status, body, expected) => {
    expect(await problemOf(fetchKeySet(answering(status, body), URL, ['ES256']))).toMatchObject(
      expected,
    );
  });

  it('names the network error when there is no answer, never the URL', async () => {
    const p = await problemOf(
      fetchKeySet(failing(new OutboundError('network', 'ENOTFOUND')), URL, ['RS256']),
    );
    expect(p).toEqual({
      failure: 'network',
      networkError: 'ENOTFOUND',
      message: 'JWKS cannot be reached (ENOTFOUND)',
    });
    const t = await problemOf(
      fetchKeySet(failing(new OutboundError('timeout', 'no answer')), URL, ['RS256']),
    );
    expect(t).toMatchObject({ failure: 'timeout', networkError: 'TIMEOUT' });
    expect(JSON.stringify([p, t])).not.toContain('idp.example.com');
  });
});

describe('checkUserinfoReachable', () => {
  it.each([200, 401, 403, 404])('counts HTTP %s as reachable', async (status) => {
    await expect(checkUserinfoReachable(answering(status, {}), URL)).resolves.toBeUndefined();
  });

  it('refuses a 5xx and a network error', async () => {
    expect(await problemOf(checkUserinfoReachable(answering(503, {}), URL))).toMatchObject({
      httpStatus: 503,
      message: 'userinfo endpoint answered HTTP 503',
    });
    expect(
      await problemOf(
        checkUserinfoReachable(failing(new OutboundError('network', 'ECONNREFUSED')), URL),
      ),
    ).toMatchObject({ networkError: 'ECONNREFUSED' });
  });
});

describe('KeySetStatusBoard', () => {
  const issuer = { name: 'idp', jwksUrl: URL };
  const error = { message: 'JWKS answered HTTP 404', httpStatus: 404, at: 1 };

  it('is PENDING before any report, and null for an issuer without a JWKS URL', () => {
    const board = new KeySetStatusBoard();
    expect(board.of(issuer)).toEqual({ state: 'PENDING', keyCount: 0 });
    expect(board.of({ name: 'ui', jwksUrl: undefined })).toBeNull();
  });

  it('is OK, STALE while old keys are usable, FAILING without usable keys', () => {
    const board = new KeySetStatusBoard();
    const now = 10_000;
    board.report('idp', {
      jwksUrl: URL,
      lastAttemptAt: 1,
      keyCount: 2,
      lastSuccessAt: 1,
      usableUntil: now + 1,
    });
    expect(board.of(issuer, now)).toMatchObject({ state: 'OK', keyCount: 2 });
    board.report('idp', {
      jwksUrl: URL,
      lastAttemptAt: 2,
      keyCount: 2,
      lastSuccessAt: 1,
      usableUntil: now + 1,
      lastError: error,
    });
    expect(board.of(issuer, now)).toMatchObject({ state: 'STALE', keyCount: 2 });
    expect(board.of(issuer, now + 2)).toMatchObject({ state: 'FAILING', keyCount: 0 });
    board.report('idp', { jwksUrl: URL, lastAttemptAt: 2, keyCount: 0, lastError: error });
    expect(board.of(issuer, now)).toMatchObject({ state: 'FAILING', lastError: error });
    expect(board.degraded([{ ...issuer } as never])).toEqual({ failing: ['idp'], stale: [] });
  });

  it('starts again at PENDING when the JWKS URL changes, and forgets deleted issuers', () => {
    const board = new KeySetStatusBoard();
    board.report('idp', { jwksUrl: URL, lastAttemptAt: 1, keyCount: 0, lastError: error });
    expect(board.of({ name: 'idp', jwksUrl: `${URL}2` })?.state).toBe('PENDING');
    board.forget('idp');
    expect(board.of(issuer)?.state).toBe('PENDING');
  });
});
