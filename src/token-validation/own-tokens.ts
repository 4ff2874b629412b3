import type { JWTPayload } from 'jose';
import type { AppConfig, TrustedIssuerConfig } from 'src/config/config.types';
import {
  type OwnTokenClaims,
  type TokenClaims,
  extractClaims,
} from 'src/token-validation/token-claims';
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
    audiences: [config.oauth.audience],
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
  return { ...claims, own };
}
