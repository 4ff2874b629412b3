import type {
  SsoClaimMappingConfig,
  SsoCustomClaimMapping,
  SsoProviderConfig,
  TrustedIssuerConfig,
} from 'src/config/config.types';

/**
 * The rules an SSO provider (issue 9 §4) must satisfy, whether it comes from configuration
 * (`bridgekeeper.auth.ui.oidc.*`) or from the admin API (`SsoProvidersService`): one pure function, so
 * the two never disagree. Messages name the field and never repeat a URL, a secret or a claim value.
 */

export const SSO_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;
export const DEFAULT_SSO_SCOPES = ['openid', 'profile', 'email'];
export const DEFAULT_SSO_CLAIMS: SsoClaimMappingConfig = {
  email: 'email',
  firstName: 'given_name',
  lastName: 'family_name',
  custom: [],
};
const CLAIM_NAME = /^[A-Za-z0-9_:.$-]{1,128}$/;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const PARAM_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
/** Parameters Bridgekeeper sets itself: forwarding one could change the protocol, never allowed. */
export const PROTOCOL_PARAMS: readonly string[] = [
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'request',
  'request_uri',
  'claims',
  'registration',
];

export type SsoField =
  | 'name'
  | 'displayName'
  | 'authority'
  | 'clientId'
  | 'clientSecret'
  | 'scopes'
  | 'claimMappings'
  | 'forwardedParameters';

export interface SsoProblem {
  field: SsoField;
  message: string;
}

/** Splits `openid profile email` (spaces or commas). */
export function parseScopes(value: string): string[] {
  return value.split(/[\s,]+/).filter((s) => s.length > 0);
}

/** Parses `claim=attribute` pairs; a malformed entry is returned as a problem. */
export function parseCustomClaims(list: string[]): {
  custom: SsoCustomClaimMapping[];
  bad: boolean;
} {
  const custom: SsoCustomClaimMapping[] = [];
  let bad = false;
  for (const entry of list) {
    const eq = entry.indexOf('=');
    if (eq <= 0 || eq === entry.length - 1) {
      bad = true;
      continue;
    }
    custom.push({ claim: entry.slice(0, eq).trim(), attribute: entry.slice(eq + 1).trim() });
  }
  return { custom, bad };
}

/**
 * Every problem of a provider. `trusted`: the trusted issuers it may name; the authority must be the
 * exact `iss` of one (Medatarun: otherwise people "will be able to sign in but will not be authorized"),
 * and that issuer must verify JWTs with a JWKS (ID tokens are verified with its keys).
 */
export function ssoProblems(
  p: SsoProviderConfig,
  trusted: readonly Pick<TrustedIssuerConfig, 'issuer' | 'jwksUrl'>[],
): SsoProblem[] {
  const problems: SsoProblem[] = [];
  const add = (field: SsoField, message: string) => problems.push({ field, message });
  if (!SSO_NAME.test(p.name))
    add('name', 'must be lower-case letters, digits and -, at most 40 characters');
  if (p.displayName.trim() === '' || p.displayName.length > 80)
    add('displayName', 'must be 1 to 80 characters');
  let url: URL | undefined;
  try {
    url = new URL(p.authority);
  } catch {
    add('authority', 'must be an absolute URL');
  }
  if (url && url.protocol !== 'https:' && url.protocol !== 'http:')
    add('authority', 'must use http or https');
  if (url) {
    const issuer = trusted.find((i) => i.issuer === p.authority);
    if (!issuer) {
      add(
        'authority',
        'must be the exact iss of one of the trusted issuers: otherwise people could sign in but would not be authorized',
      );
    } else if (!issuer.jwksUrl) {
      add(
        'authority',
        'its trusted issuer must have a JWKS URL: ID tokens are verified with its keys',
      );
    }
  }
  if (p.clientId.trim() === '' || p.clientId.length > 256)
    add('clientId', 'is required (at most 256 characters)');
  if (p.clientSecret !== undefined && (p.clientSecret.length < 1 || p.clientSecret.length > 1024))
    add('clientSecret', 'must be 1 to 1024 characters');
  if (!p.scopes.includes('openid')) add('scopes', 'must include openid');
  if (p.scopes.length > 30 || p.scopes.some((s) => !SCOPE.test(s)))
    add('scopes', 'must be at most 30 valid scope names');
  const c = p.claims;
  const claims = [c.email, c.firstName, ...(c.lastName === null ? [] : [c.lastName])];
  if (claims.some((n) => !CLAIM_NAME.test(n)) || c.custom.some((m) => !CLAIM_NAME.test(m.claim)))
    add('claimMappings', 'claim names must be 1 to 128 letters, digits, _ : . $ -');
  if (c.custom.some((m) => !ATTRIBUTE_NAME.test(m.attribute)))
    add('claimMappings', 'attribute names must be 1 to 64 letters, digits, _ . -');
  if (new Set(c.custom.map((m) => m.attribute)).size !== c.custom.length)
    add('claimMappings', 'each attribute may be mapped once');
  if (c.custom.length > 50) add('claimMappings', 'at most 50 custom claims');
  if (p.forwardParams.length > 20 || p.forwardParams.some((n) => !PARAM_NAME.test(n)))
    add('forwardedParameters', 'must be at most 20 parameter names');
  const reserved = p.forwardParams.filter((n) => PROTOCOL_PARAMS.includes(n));
  if (reserved.length > 0)
    add('forwardedParameters', `${reserved.join(', ')} cannot be forwarded (protocol parameters)`);
  return problems;
}
