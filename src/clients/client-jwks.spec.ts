import { generateKeyPairSync } from 'node:crypto';
import { AppError } from 'src/common/errors/app-error';
import { MAX_CLIENT_JWKS_BYTES, parseClientJwks } from 'src/clients/client-jwks';

type Jwk = Record<string, unknown>;

function pair(type: 'rsa' | 'ec' | 'ed25519', opts: Record<string, unknown> = {}) {
  const { publicKey, privateKey } =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048, ...opts })
      : type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256', ...opts })
        : generateKeyPairSync('ed25519');
  return {
    pub: publicKey.export({ format: 'jwk' }) as Jwk,
    priv: privateKey.export({ format: 'jwk' }) as Jwk,
  };
}

const rsa = pair('rsa');
const ec = pair('ec');
const ed = pair('ed25519');
const jwks = (...keys: unknown[]) => JSON.stringify({ keys });

/** The BAD_INPUT message, which must name the field (and never echo key material). */
function refusal(text: string): string {
  try {
    parseClientJwks(text);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).kind).toBe('BAD_INPUT');
    expect((err as AppError).message).toMatch(/^jwks: /);
    return (err as AppError).message;
  }
  throw new Error('accepted');
}

describe('parseClientJwks (private_key_jwt client keys)', () => {
  it('accepts RSA 2048, EC P-256/384/521 and Ed25519 public keys, keeping public members only', () => {
    const p384 = pair('ec', { namedCurve: 'P-384' });
    const p521 = pair('ec', { namedCurve: 'P-521' });
    const parsed = parseClientJwks(
      jwks(
        { ...rsa.pub, kid: 'r1', alg: 'PS256', use: 'sig', x5c: ['MIIB'], x5u: 'https://x/' },
        { ...ec.pub, kid: 'e1', alg: 'ES256' },
        { ...p384.pub, kid: 'e2' },
        { ...p521.pub, kid: 'e3' },
        { ...ed.pub, kid: 'o1', alg: 'EdDSA' },
      ),
    );
    expect(parsed.keys.map((k) => k.kid)).toEqual(['r1', 'e1', 'e2', 'e3', 'o1']);
    expect(parsed.keys[0]).toEqual({
      kty: 'RSA',
      kid: 'r1',
      alg: 'PS256',
      use: 'sig',
      n: rsa.pub.n,
      e: rsa.pub.e,
    });
    expect(parsed.keys[1]).toEqual({
      kty: 'EC',
      kid: 'e1',
      alg: 'ES256',
      crv: 'P-256',
      x: ec.pub.x,
      y: ec.pub.y,
    });
  });

  it.each([
    ['RSA', rsa.priv],
    ['EC', ec.priv],
    ['Ed25519', ed.priv],
  ])('refuses a private %s key', (_name, priv) => {
    expect(refusal(jwks({ ...priv, kid: 'k' }))).toMatch(/private or symmetric key material/);
  });

  it.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])(
    'refuses a key with the private member %s',
    (member) => {
      expect(refusal(jwks({ ...rsa.pub, kid: 'k', [member]: 'AQAB' }))).toContain(`"${member}"`);
    },
  );

  it('refuses symmetric keys', () => {
    expect(refusal(jwks({ kty: 'oct', kid: 'h' }))).toMatch(/symmetric keys \(kty "oct"\)/);
    // With its secret `k`, it is refused before anything else (and the secret is not echoed).
    const msg = refusal(jwks({ kty: 'oct', kid: 'h', k: 'c2VjcmV0LXNlY3JldA' }));
    expect(msg).not.toContain('c2VjcmV0');
  });

  it('refuses RSA keys under 2048 bits', () => {
    const small = pair('rsa', { modulusLength: 1024 });
    expect(refusal(jwks({ ...small.pub, kid: 'k' }))).toMatch(/at least 2048 bits/);
  });

  it('refuses other curves and key types, and algs that do not fit the key', () => {
    const k1 = pair('ec', { namedCurve: 'secp256k1' });
    expect(refusal(jwks({ ...k1.pub, kid: 'k' }))).toMatch(/crv must be P-256/);
    expect(refusal(jwks({ kty: 'OKP', crv: 'Ed448', x: 'AAAA', kid: 'k' }))).toMatch(/Ed25519/);
    expect(refusal(jwks({ kty: 'OKP', crv: 'X25519', x: 'AAAA', kid: 'k' }))).toMatch(/Ed25519/);
    expect(refusal(jwks({ kty: 'foo', kid: 'k' }))).toMatch(/kty must be RSA, EC or OKP/);
    expect(refusal(jwks({ ...rsa.pub, kid: 'k', alg: 'HS256' }))).toMatch(/alg must be one of/);
    expect(refusal(jwks({ ...rsa.pub, kid: 'k', alg: 'none' }))).toMatch(/alg must be one of/);
    expect(refusal(jwks({ ...ec.pub, kid: 'k', alg: 'ES384' }))).toMatch(/alg does not match crv/);
    expect(refusal(jwks({ ...ec.pub, kid: 'k', use: 'enc' }))).toMatch(/use must be "sig"/);
    expect(refusal(jwks({ ...ec.pub, kid: 'k', key_ops: ['encrypt'] }))).toMatch(/key_ops/);
  });

  it('refuses a point that is not on the curve', () => {
    const other = pair('ec');
    expect(refusal(jwks({ ...ec.pub, y: other.pub.y, kid: 'k' }))).toMatch(
      /not a valid EC public key/,
    );
  });

  it('requires a unique kid on every key', () => {
    expect(refusal(jwks({ ...ec.pub }))).toMatch(/kid is required/);
    expect(refusal(jwks({ ...ec.pub, kid: '' }))).toMatch(/kid is required/);
    expect(refusal(jwks({ ...ec.pub, kid: 'a b' }))).toMatch(/kid is required/);
    expect(refusal(jwks({ ...ec.pub, kid: 'x'.repeat(129) }))).toMatch(/kid is required/);
    expect(refusal(jwks({ ...ec.pub, kid: 'a' }, { ...ed.pub, kid: 'a' }))).toMatch(/kid is used/);
  });

  it('bounds the key count and the size, and requires a JWKS shape', () => {
    const many = Array.from({ length: 11 }, (_, i) => ({ ...ed.pub, kid: `k${i}` }));
    expect(refusal(jwks(...many))).toMatch(/at most 10 keys/);
    expect(parseClientJwks(jwks(...many.slice(0, 10))).keys).toHaveLength(10);
    expect(refusal(jwks())).toMatch(/at least one key/);
    expect(refusal(' '.repeat(MAX_CLIENT_JWKS_BYTES + 1))).toMatch(/at most 16384 bytes/);
    expect(refusal('not json')).toMatch(/JSON/);
    expect(refusal('[]')).toMatch(/"keys" array/);
    expect(refusal('{"keys":{}}')).toMatch(/"keys" array/);
    expect(refusal(JSON.stringify(ec.pub))).toMatch(/"keys" array/);
    expect(refusal(jwks('key'))).toMatch(/key 0: must be a JSON object/);
    expect(refusal(jwks({ ...ec.pub, kid: 'k', x: 'not base64url!' }))).toMatch(
      /x must be base64url/,
    );
  });
});
