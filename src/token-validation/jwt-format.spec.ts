import { AppError } from 'src/common/errors/app-error';
import {
  MAX_TOKEN_LENGTH,
  parseCompactJws,
  tryParseCompactJws,
} from 'src/token-validation/jwt-format';
import { TokenErrorCode } from 'src/token-validation/token-validation.errors';

// SECURITY rule 3: compact JWS only, bounded, no JWE, no nested JWT, no unknown `crit`.
const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const SIG = Buffer.from('not-a-real-signature').toString('base64url');
const PAYLOAD = { iss: 'https://login.example.com', sub: 'alice', exp: 2000000000 };
const jws = (header: unknown, payload: unknown = PAYLOAD, sig = SIG) =>
  `${b64(header)}.${b64(payload)}.${sig}`;

/** The `reason` of the 401 the parser throws (the caller only ever sees the generic description). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    const e = err as AppError;
    expect(e.kind).toBe('INVALID_TOKEN');
    expect(e.code).toBe(TokenErrorCode.TOKEN_MALFORMED);
    expect(e.message).toBe('The access token is invalid or expired');
    return e.reason ?? '';
  }
  throw new Error('expected the token to be refused');
}

describe('parseCompactJws', () => {
  it('returns the unverified header and payload of a well-formed compact JWS', () => {
    const header = { alg: 'RS256', typ: 'JWT', kid: 'key-1' };
    expect(parseCompactJws(jws(header))).toEqual({ header, payload: PAYLOAD });
  });

  it('accepts a token of exactly the 8 KiB cap and refuses one character more', () => {
    expect(MAX_TOKEN_LENGTH).toBe(8192);
    const prefix = `${b64({ alg: 'RS256' })}.${b64(PAYLOAD)}.`;
    const atCap = prefix + 'A'.repeat(MAX_TOKEN_LENGTH - prefix.length);
    expect(atCap).toHaveLength(MAX_TOKEN_LENGTH);
    expect(parseCompactJws(atCap).payload).toEqual(PAYLOAD);
    expect(refusal(() => parseCompactJws(`${atCap}A`))).toBe('too_large');
  });

  it.each([
    ['two segments', `${b64({ alg: 'RS256' })}.${b64(PAYLOAD)}`],
    ['four segments', `${jws({ alg: 'RS256' })}.${SIG}`],
    ['an empty signature (unsecured JWS)', `${b64({ alg: 'RS256' })}.${b64(PAYLOAD)}.`],
    ['a JWE (five segments)', `${b64({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.ek.iv.ct.tag`],
    ['standard base64 "+"', `${b64({ alg: 'RS256' })}.${b64(PAYLOAD)}.ab+cd`],
    ['standard base64 "/"', `${b64({ alg: 'RS256' })}.${b64(PAYLOAD)}.ab/cd`],
    ['base64 padding', `${b64({ alg: 'RS256' })}.${b64(PAYLOAD)}.abcd==`],
    ['whitespace', `${b64({ alg: 'RS256' })}. ${b64(PAYLOAD)}.${SIG}`],
    ['a "Bearer " prefix', `Bearer ${jws({ alg: 'RS256' })}`],
    ['an empty string', ''],
  ])('refuses %s as not a compact JWS', (_what, token) => {
    expect(refusal(() => parseCompactJws(token))).toBe('not_compact_jws');
  });

  it.each([
    ['a missing alg', {}],
    ['alg "none"', { alg: 'none' }],
    ['a non-string alg', { alg: ['RS256'] }],
  ])('refuses %s', (_what, header) => {
    expect(refusal(() => parseCompactJws(jws(header)))).toBe('bad_alg');
  });

  it.each(['JWT', 'jwt', 'Jwt'])('refuses a nested JWT (cty: %s)', (cty) => {
    expect(refusal(() => parseCompactJws(jws({ alg: 'RS256', cty })))).toBe('nested_jwt');
  });

  it('refuses a JWE header squeezed into three segments', () => {
    expect(refusal(() => parseCompactJws(jws({ alg: 'RSA-OAEP', enc: 'A256GCM' })))).toBe('jwe');
  });

  it.each([
    ['an unknown extension', ['exp-ext']],
    ['b64 (unencoded payload)', ['b64']],
    ['an empty list', []],
    ['a non-list', 'exp-ext'],
  ])('refuses crit naming %s (no extension is understood)', (_what, crit) => {
    expect(refusal(() => parseCompactJws(jws({ alg: 'RS256', crit, 'exp-ext': 1 })))).toBe('crit');
  });

  it('bounds the kid: a string of at most 256 characters', () => {
    expect(parseCompactJws(jws({ alg: 'RS256', kid: 'k'.repeat(256) })).header.kid).toHaveLength(
      256,
    );
    expect(refusal(() => parseCompactJws(jws({ alg: 'RS256', kid: 'k'.repeat(257) })))).toBe(
      'bad_kid',
    );
    expect(refusal(() => parseCompactJws(jws({ alg: 'RS256', kid: 42 })))).toBe('bad_kid');
    expect(refusal(() => parseCompactJws(jws({ alg: 'RS256', kid: { path: '/etc' } })))).toBe(
      'bad_kid',
    );
    expect(refusal(() => parseCompactJws(jws({ alg: 'RS256', kid: null })))).toBe('bad_kid');
  });

  it('ignores key-carrying headers (jwk, jku, x5u, x5c) rather than failing on them', () => {
    // Keys only ever come from the configured JWKS; these are returned untouched and never used.
    const header = {
      alg: 'RS256',
      jku: 'https://attacker.example/jwks',
      jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' },
      x5u: 'https://attacker.example/cert',
    };
    expect(parseCompactJws(jws(header)).header).toEqual(header);
  });

  it.each([
    ['a header that is not JSON', `${b64('not json')}.${b64(PAYLOAD)}.${SIG}`, 'bad_json'],
    ['a payload that is not JSON', `${b64({ alg: 'RS256' })}.${b64('{"sub":')}.${SIG}`, 'bad_json'],
    ['a header that is an array', `${b64(['RS256'])}.${b64(PAYLOAD)}.${SIG}`, 'not_an_object'],
    ['a payload that is null', `${b64({ alg: 'RS256' })}.${b64('null')}.${SIG}`, 'not_an_object'],
    [
      'a payload that is a string',
      `${b64({ alg: 'RS256' })}.${b64('"alice"')}.${SIG}`,
      'not_an_object',
    ],
    ['a payload that is a number', `${b64({ alg: 'RS256' })}.${b64('42')}.${SIG}`, 'not_an_object'],
  ])('refuses %s', (_what, token, reason) => {
    expect(refusal(() => parseCompactJws(token))).toBe(reason);
  });
});

describe('tryParseCompactJws', () => {
  it('returns undefined for a token not shaped like a JWS (an opaque token)', () => {
    expect(tryParseCompactJws('2YotnFZFEjr1zCsicMWpAA')).toBeUndefined();
    expect(tryParseCompactJws(`${b64({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.ek.iv.ct.tag`)).toBe(
      undefined,
    );
  });

  it('still refuses a JWS-shaped token that fails the checks, and oversize opaque tokens', () => {
    expect(refusal(() => tryParseCompactJws(jws({ alg: 'none' })))).toBe('bad_alg');
    expect(refusal(() => tryParseCompactJws('a'.repeat(MAX_TOKEN_LENGTH + 1)))).toBe('too_large');
  });

  it('parses a well-formed JWS', () => {
    expect(tryParseCompactJws(jws({ alg: 'ES256' }))?.payload).toEqual(PAYLOAD);
  });
});
