import type { JWTPayload, JWTVerifyOptions } from 'jose';
import type { TrustedIssuerConfig } from 'src/config/config.types';
import { ACCESS_TOKEN_TYP } from 'src/token-validation/own-tokens';
import { TokenErrorCode, invalidToken } from 'src/token-validation/token-validation.errors';

/** RFC 6750 b64token: what an opaque bearer token may contain. */
const OPAQUE_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function looksLikeJose(token: string): boolean {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    return typeof header === 'object' && header !== null;
  } catch {
    return false;
  }
}

/**
 * Whether a token that is not a compact JWS may be treated as opaque (sent to the opaque issuer's
 * userinfo endpoint): a JWE or any other JOSE-shaped token never is (rule 7).
 */
export function isOpaqueCandidate(token: string): boolean {
  return OPAQUE_TOKEN.test(token) && !looksLikeJose(token);
}

/** Every verification option for a trusted issuer's JWT (SECURITY.md rule 2). */
export function issuerVerifyOptions(issuer: TrustedIssuerConfig): JWTVerifyOptions {
  return {
    issuer: issuer.issuer,
    // Listed audiences are always checked; none listed is only possible with audiences.required=false.
    audience: issuer.audiences.length > 0 ? issuer.audiences : undefined,
    algorithms: issuer.algorithms,
    clockTolerance: issuer.clockToleranceSeconds,
    requiredClaims: ['exp', 'iat', 'sub'],
    ...(issuer.maxTokenAgeSeconds !== undefined ? { maxTokenAge: issuer.maxTokenAgeSeconds } : {}),
  };
}

/** Every verification option for one of our own access tokens (RFC 9068), signed with `alg`. */
export function ownVerifyOptions(own: TrustedIssuerConfig, alg: string): JWTVerifyOptions {
  return {
    issuer: own.issuer,
    audience: own.audiences,
    algorithms: [alg],
    typ: ACCESS_TOKEN_TYP,
    clockTolerance: own.clockToleranceSeconds,
    requiredClaims: ['exp', 'iat', 'sub', 'jti', 'client_id'],
    maxTokenAge: own.maxTokenAgeSeconds,
  };
}

/** jose accepts an `iat` in the future; we refuse one beyond the clock tolerance. */
export function assertIatNotInFuture(payload: JWTPayload, clockToleranceSeconds: number): void {
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.iat === 'number' && payload.iat > now + clockToleranceSeconds) {
    throw invalidToken(TokenErrorCode.TOKEN_CLAIMS_INVALID, 'iat_in_future');
  }
}
