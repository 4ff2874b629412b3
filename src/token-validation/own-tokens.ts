import type { JWTPayload } from 'jose';
import type { AppConfig, TrustedIssuerConfig } from 'src/config/config.types';
import {
  type ActorClaim,
  type OwnTokenClaims,
  type TokenClaims,
  extractClaims,
} from 'src/token-validation/token-claims';
import { ownAudiences } from 'src/token-validation/oauth-resources';
import { TokenErrorCode, invalidToken } from 'src/token-validation/token-validation.errors';

/** The issuer name of Bridgekeeper's own tokens: reserved, no trusted issuer may take it. */
export const OWN_ISSUER_NAME = 'bridgekeeper';
/** Whether an issuer is Bridgekeeper itself (our own tokens). */
export const isOwnIssuer = (issuer: TrustedIssuerConfig | undefined): boolean =>
  issuer?.name === OWN_ISSUER_NAME;

/** RFC 9068 `typ` of our access tokens; ID tokens (`JWT`) and anything else are refused as access tokens. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
const MAX_CLAIM = 256;

/** Bridgekeeper itself as an issuer, for the validation pipeline (its keys come from the database). */
export function ownIssuer(config: AppConfig): TrustedIssuerConfig {
  return {
    name: OWN_ISSUER_NAME,
    issuer: config.publicUrl,
    opaque: false,
    // The API's and the MCP endpoint's (RFC 8707): which one a route accepts is checked per route.
    audiences: ownAudiences(config),
    audiencesRequired: true,
    algorithms: [config.oauth.signingAlgorithm],
    clockToleranceSeconds: 60,
    // No token of ours lives longer than this (a lifetime change applies to new tokens only).
    maxTokenAgeSeconds: config.oauth.accessTokenTtlSeconds + 60,
    provisioning: 'existing',
    userinfoCredentials: false,
    emailMatching: false,
    source: 'config',
  };
}

function boundedString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_CLAIM;
}

/** Identity and the Bridgekeeper-specific claims of one of our verified access tokens. */
export function extractOwnClaims(payload: JWTPayload): TokenClaims {
  const claims = extractClaims(payload);
  const {
    jti,
    client_id: clientId,
    scope,
    sid,
    membership,
    project,
    aud,
    act,
  } = payload as Record<string, unknown>;
  if (!boundedString(jti) || !boundedString(clientId)) {
    throw invalidToken(TokenErrorCode.TOKEN_CLAIMS_INVALID, 'claim_other');
  }
  if (scope !== undefined && (typeof scope !== 'string' || scope.length > 2048)) {
    throw invalidToken(TokenErrorCode.TOKEN_CLAIMS_INVALID, 'claim_other');
  }
  const own: OwnTokenClaims = { jti, clientId, scope: (scope as string | undefined) ?? '' };
  if (boundedString(sid)) own.sid = sid;
  if (boundedString(membership)) own.membership = membership;
  if (boundedString(project)) own.project = project;
  const audience = Array.isArray(aud) && aud.length === 1 ? (aud[0] as unknown) : aud;
  if (!boundedString(audience))
    throw invalidToken(TokenErrorCode.TOKEN_CLAIMS_INVALID, 'claim_aud');
  own.aud = audience;
  if (act !== undefined) {
    const actor = actorClaim(act, 0);
    if (!actor) throw invalidToken(TokenErrorCode.TOKEN_CLAIMS_INVALID, 'claim_act');
    own.act = actor;
  }
  return { ...claims, own };
}

/** How deep a chain of delegations may go (RFC 8693 §4.1 `act` nested in `act`). */
export const MAX_ACT_DEPTH = 5;

/** An RFC 8693 `act` claim of ours: `sub` and `client_id` of the acting party, nested for older ones. */
export function actorClaim(v: unknown, depth: number): ActorClaim | undefined {
  if (depth >= MAX_ACT_DEPTH || !v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const { sub, client_id: clientId, act } = v as Record<string, unknown>;
  if (!boundedString(sub) || !boundedString(clientId)) return undefined;
  const claim: ActorClaim = { sub, client_id: clientId };
  if (act !== undefined) {
    const inner = actorClaim(act, depth + 1);
    if (!inner) return undefined;
    claim.act = inner;
  }
  return claim;
}
