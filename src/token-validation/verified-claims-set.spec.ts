import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, compactVerify, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { mapVerifyError, verifiedClaimsSet } from 'src/token-validation/verify-options';

// The claims step checks the claims set of a token whose signature compactVerify verified, without
// verifying it again: it must refuse exactly what jwtVerify refuses, for the same reason.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const now = () => Math.floor(Date.now() / 1000);
const OPTIONS: JWTVerifyOptions = {
  issuer: 'https://login.example.com',
  audience: ['api'],
  algorithms: ['ES256'],
  clockTolerance: 60,
  requiredClaims: ['exp', 'iat', 'sub'],
  maxTokenAge: 3600,
};

async function sign(payload: JWTPayload, typ = 'JWT'): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ }).sign(privateKey);
}

const base = (): JWTPayload => ({
  iss: 'https://login.example.com',
  aud: 'api',
  sub: 'alice',
  iat: now(),
  exp: now() + 300,
});

/** The refusal reason of both paths ('ok' when accepted), after the signature verified. */
async function verdicts(token: string, options = OPTIONS): Promise<[string, string]> {
  const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as Record<
    string,
    unknown
  >;
  const reason = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      return 'ok';
    } catch (err) {
      return mapVerifyError(err).reason ?? 'unknown';
    }
  };
  return [
    await reason(() => jwtVerify(token, publicKey, options)),
    await reason(async () => {
      await compactVerify(token, publicKey, { algorithms: options.algorithms });
      return verifiedClaimsSet(token, header, options);
    }),
  ];
}

describe('verifiedClaimsSet', () => {
  it.each<[string, JWTPayload]>([
    ['a valid token', {}],
    ['an expired token', { exp: now() - 600 }],
    ['another issuer', { iss: 'https://evil.example.com' }],
    ['another audience', { aud: 'other' }],
    ['no audience', { aud: undefined }],
    ['no sub', { sub: undefined }],
    ['no exp', { exp: undefined }],
    ['no iat', { iat: undefined }],
    ['not yet valid', { nbf: now() + 600 }],
    ['too old', { iat: now() - 7200 }],
  ])('answers %s as jwtVerify does', async (_what, change) => {
    const [expected, actual] = await verdicts(await sign({ ...base(), ...change }));
    expect(actual).toBe(expected);
  });

  it('checks typ from the token header, as jwtVerify does', async () => {
    const own = { ...OPTIONS, typ: 'at+jwt', requiredClaims: ['exp', 'iat', 'sub', 'jti'] };
    const good = await sign({ ...base(), jti: 'j' }, 'at+jwt');
    expect(await verdicts(good, own)).toEqual(['ok', 'ok']);
    const app = await sign({ ...base(), jti: 'j' }, 'application/at+jwt');
    expect(await verdicts(app, own)).toEqual(['ok', 'ok']);
    const idToken = await sign({ ...base(), jti: 'j' }, 'JWT');
    expect(await verdicts(idToken, own)).toEqual(['claim_typ', 'claim_typ']);
    const noJti = await sign(base(), 'at+jwt');
    const [expected, actual] = await verdicts(noJti, own);
    expect(expected).not.toBe('ok');
    expect(actual).toBe(expected);
  });
});
