import { errors as joseErrors, type JWTPayload, type JWTVerifyOptions, UnsecuredJWT } from 'jose';
import { AppError } from 'src/common/errors/app-error';
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

/**
 * The claims set of a token whose signature `compactVerify` has just verified, checked with `options`
 * by jose's own claim validation: the second half of `jwtVerify` (issuer, audience, times, required
 * claims, maximum age, `typ`), without verifying the signature a second time. jose runs that validation
 * on an unsecured JWT, so the verified payload segment is handed to it under an `alg: none` header that
 * keeps only the token's `typ`. Never call this before the signature is verified.
 */
export function verifiedClaimsSet(
  token: string,
  header: Record<string, unknown>,
  options: JWTVerifyOptions,
): JWTPayload {
  const claimsHeader =
    typeof header.typ === 'string' ? { alg: 'none', typ: header.typ } : { alg: 'none' };
  const unsecured = `${Buffer.from(JSON.stringify(claimsHeader)).toString('base64url')}.${token.split('.')[1]}.`;
  return UnsecuredJWT.decode(unsecured, options).payload;
}

/** Maps jose (and any other) verification failures to a 401 with a fixed reason; never a 500. */
export function mapVerifyError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof joseErrors.JWTExpired)
    return invalidToken(TokenErrorCode.TOKEN_EXPIRED, 'expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = ['iss', 'aud', 'sub', 'exp', 'iat', 'nbf', 'typ'].includes(err.claim)
      ? err.claim
      : 'other';
    return invalidToken(TokenErrorCode.TOKEN_CLAIMS_INVALID, `claim_${claim}`);
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return invalidToken(TokenErrorCode.TOKEN_SIGNATURE_INVALID, 'bad_signature');
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) {
    return invalidToken(TokenErrorCode.TOKEN_KEY_UNKNOWN, 'unknown_kid');
  }
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return invalidToken(TokenErrorCode.TOKEN_SIGNATURE_INVALID, 'bad_signature');
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) {
    return invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'alg_not_allowed');
  }
  if (err instanceof joseErrors.JOSENotSupported) {
    return invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'not_supported');
  }
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) {
    return invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'malformed');
  }
  // e.g. jose's TypeError for an RSA key shorter than 2048 bits, or a key that cannot be imported.
  return invalidToken(TokenErrorCode.TOKEN_SIGNATURE_INVALID, 'invalid_key', err);
}
