import type { JWTPayload } from 'jose';
import type { ProfileClaims } from 'src/common/auth/profile-claims';
import { fhirUserClaim } from 'src/token-validation/fhir-user-claim';
import { TokenErrorCode, invalidToken } from 'src/token-validation/token-validation.errors';

const MAX_SUB_LENGTH = 255;
const MAX_PROFILE_CLAIM_LENGTH = 512;
const MAX_FHIR_USER_LENGTH = 1024;
const STRING_PROFILE_CLAIMS = [
  'email',
  'name',
  'given_name',
  'family_name',
  'preferred_username',
] as const;

/** The claims Bridgekeeper keeps from a verified token (and caches): identity and profile only. */
export interface TokenClaims extends ProfileClaims {
  sub: string;
  exp: number;
  iat: number;
  /** The raw `fhirUser` claim (top level, or in `ext`), canonicalized later by the memberships module. */
  fhirUser?: string;
  /** Present on Bridgekeeper's own access tokens only. */
  own?: OwnTokenClaims;
}

/** What Bridgekeeper's own access tokens carry besides identity (issue 4 §1). */
export interface OwnTokenClaims {
  jti: string;
  clientId: string;
  /** Space-separated, as in the token. */
  scope: string;
  /** The grant (session) the token belongs to, when it has one (refresh tokens, exchanges). */
  sid?: string;
  /** The project membership the subject resolved to when the token was issued. */
  membership?: string;
  /** The project the token is limited to (a project-scoped client's tokens, or the membership's). */
  project?: string;
  /** The token's audience: the API's or the MCP endpoint's (RFC 8707, see oauth-resources.ts). */
  aud?: string;
  /** RFC 8693 §4.1: who acts for `sub` (a delegated token), the most recent actor outermost. */
  act?: ActorClaim;
}

/** RFC 8693 §4.1 `act`: the acting party (an actor id, or a client's own `client_id`) and its client. */
export interface ActorClaim {
  sub: string;
  client_id: string;
  /** The party that acted before (a token delegated again). */
  act?: ActorClaim;
}

/** The identity and profile claims kept from a validated token (or userinfo answer), bounded. */
export function extractClaims(payload: JWTPayload): TokenClaims {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUB_LENGTH) {
    throw invalidToken(TokenErrorCode.TOKEN_CLAIMS_INVALID, 'claim_sub');
  }
  if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number') {
    throw invalidToken(TokenErrorCode.TOKEN_CLAIMS_INVALID, 'claim_exp');
  }
  const claims: TokenClaims = { sub, exp: payload.exp, iat: payload.iat };
  for (const name of STRING_PROFILE_CLAIMS) {
    const v = payload[name];
    if (typeof v === 'string' && v.length > 0 && v.length <= MAX_PROFILE_CLAIM_LENGTH)
      claims[name] = v;
  }
  if (typeof payload.email_verified === 'boolean') claims.email_verified = payload.email_verified;
  const fhirUser = fhirUserClaim(payload);
  if (fhirUser !== undefined) {
    // Present but unusable must stay visible (a 401 later), not silently fall back to `sub`.
    claims.fhirUser =
      typeof fhirUser === 'string' ? fhirUser.slice(0, MAX_FHIR_USER_LENGTH + 1) : '';
  }
  return claims;
}
