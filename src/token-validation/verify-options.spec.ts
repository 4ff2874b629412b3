import { AppError } from 'src/common/errors/app-error';
import type { TrustedIssuerConfig } from 'src/config/config.types';
import {
  assertIatNotInFuture,
  isOpaqueCandidate,
  issuerVerifyOptions,
  ownVerifyOptions,
} from 'src/token-validation/verify-options';

// SECURITY rule 2: every verification option set; shared by validation and explainToken.
const issuer: TrustedIssuerConfig = {
  name: 'idp',
  issuer: 'https://login.example.com',
  jwksUrl: 'https://login.example.com/jwks',
  opaque: false,
  audiences: ['api'],
  audiencesRequired: true,
  algorithms: ['RS256'],
  clockToleranceSeconds: 60,
  provisioning: 'jit',
  userinfoCredentials: false,
  emailMatching: false,
  source: 'config',
};

describe('verify options', () => {
  it('sets issuer, audience, algorithms, tolerance and required claims for a trusted issuer', () => {
    expect(issuerVerifyOptions(issuer)).toEqual({
      issuer: 'https://login.example.com',
      audience: ['api'],
      algorithms: ['RS256'],
      clockTolerance: 60,
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    expect(issuerVerifyOptions({ ...issuer, maxTokenAgeSeconds: 3600 }).maxTokenAge).toBe(3600);
    expect(issuerVerifyOptions({ ...issuer, audiences: [] }).audience).toBeUndefined();
  });

  it('requires typ at+jwt, jti and client_id for our own tokens', () => {
    const own = { ...issuer, name: 'bridgekeeper', maxTokenAgeSeconds: 960 };
    expect(ownVerifyOptions(own, 'ES256')).toMatchObject({
      algorithms: ['ES256'],
      typ: 'at+jwt',
      requiredClaims: ['exp', 'iat', 'sub', 'jti', 'client_id'],
      maxTokenAge: 960,
    });
  });

  it('refuses an iat beyond the clock tolerance', () => {
    const now = Math.floor(Date.now() / 1000);
    expect(() => assertIatNotInFuture({ iat: now + 30 }, 60)).not.toThrow();
    expect(() => assertIatNotInFuture({ iat: now + 600 }, 60)).toThrow(AppError);
  });

  it.each([
    ['an opaque b64token', 'abc123-._~+/==', true],
    ['a JOSE-shaped token', `${Buffer.from('{"alg":"dir"}').toString('base64url')}.x.y.z.w`, false],
    ['text with spaces', 'not a token', false],
  ])('%s: opaque candidate = %s', (_name, token, expected) => {
    expect(isOpaqueCandidate(token)).toBe(expected);
  });
});
