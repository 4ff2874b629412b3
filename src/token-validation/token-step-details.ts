import type { JWTPayload } from 'jose';
import type { AppError } from 'src/common/errors/app-error';
import { ASYMMETRIC_ALGORITHMS } from 'src/config/config.types';
import { MAX_TOKEN_LENGTH } from 'src/token-validation/jwt-format';
import {
  ACCESS_TOKEN_TYP,
  OWN_ISSUER_NAME,
  isOwnIssuer as isOwn,
} from 'src/token-validation/own-tokens';
import type { TokenCheck } from 'src/token-validation/token-steps';

/**
 * The texts `explainToken` shows for each step of TOKEN_STEPS: fixed phrases, never the token, a
 * signature or any claim value other than the issuer name, `sub`, times, audiences and `kid`.
 */

/** Algorithms named in a detail as they are; anything else is "an unknown algorithm". */
const KNOWN_ALGS = new Set<string>([
  ...ASYMMETRIC_ALGORITHMS,
  'Ed25519',
  'HS256',
  'HS384',
  'HS512',
]);
const MAX_SUB_LENGTH = 255;
const MAX_AUD_SHOWN = 5;
const MAX_VALUE_SHOWN = 128;

/** Fixed texts for the structural refusals of `parseCompactJws` (never the token's content). */
const FORMAT_DETAILS: Record<string, string> = {
  too_large: `token is longer than ${MAX_TOKEN_LENGTH} characters`,
  not_compact_jws: 'not a compact JWS (three base64url segments)',
  bad_json: 'header or payload is not base64url-encoded JSON',
  not_an_object: 'header or payload is not a JSON object',
  bad_alg: 'header alg is missing or "none"',
  crit: 'header has crit extensions, none of which are supported',
  nested_jwt: 'nested JWT (cty: JWT) is not accepted',
  bad_kid: 'header kid is not a string of at most 256 characters',
  jwe: 'encrypted tokens (JWE) are not accepted',
};

const SIGNATURE_DETAILS: Record<string, string> = {
  bad_signature: 'signature does not verify with the key',
  invalid_key: 'the key cannot verify this token (unusable or too weak)',
  alg_not_allowed: 'algorithm not allowed for this key',
  not_supported: 'algorithm or key type not supported',
  malformed: 'token structure rejected by the verifier',
};

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

function shown(value: string): string {
  return value.length > MAX_VALUE_SHOWN ? `${value.slice(0, MAX_VALUE_SHOWN)}…` : value;
}

export function describeFormat(check: TokenCheck): string {
  if (!check.jws) return 'opaque token (not a JWT)';
  const alg = check.jws.header.alg;
  return typeof alg === 'string' && KNOWN_ALGS.has(alg) ? `compact JWS, alg ${alg}` : 'compact JWS';
}

export function describeFormatFailure(err: AppError): string {
  return FORMAT_DETAILS[err.reason ?? ''] ?? 'malformed token';
}

export function describeIssuer({ issuer, opaque }: TokenCheck): string {
  if (isOwn(issuer)) return `${OWN_ISSUER_NAME} (our own token)`;
  return opaque ? `${issuer!.name} (the issuer that accepts opaque tokens)` : issuer!.name;
}

export function describeIssuerFailure(_err: AppError, check: TokenCheck): string {
  return typeof check.jws?.payload.iss === 'string' || check.opaque
    ? 'unknown issuer'
    : 'no iss claim';
}

function kidText(check: TokenCheck): string {
  const kid = check.jws?.header.kid;
  return typeof kid === 'string' ? `kid ${shown(kid)}` : 'no kid';
}

export function describeKey(check: TokenCheck): string {
  if (check.userinfo) {
    return check.userinfo.cached
      ? 'validated by the userinfo endpoint (cached verdict; not called again)'
      : 'validated by the userinfo endpoint';
  }
  return isOwn(check.issuer)
    ? `${kidText(check)} is one of our signing keys`
    : `${kidText(check)} found in ${check.issuer!.name}'s key set`;
}

export function describeKeyFailure(err: AppError, check: TokenCheck): string {
  if (err.kind === 'UNAVAILABLE') return 'key set unavailable: the issuer cannot be reached (503)';
  const own = isOwn(check.issuer);
  if (err.reason === 'unknown_kid') {
    return own
      ? `${kidText(check)} not one of our signing keys`
      : `${kidText(check)} not in ${check.issuer!.name}'s key set`;
  }
  if (err.reason === 'alg_not_allowed') {
    return own ? 'algorithm does not match the key' : "algorithm not in this issuer's allow-list";
  }
  return `${kidText(check)}: no usable key`;
}

export function describeSignature(check: TokenCheck): string {
  if (!check.userinfo) return 'valid';
  return check.userinfo.cached
    ? 'accepted by the userinfo endpoint (cached verdict)'
    : 'accepted by the userinfo endpoint';
}

export function describeSignatureFailure(err: AppError): string {
  return SIGNATURE_DETAILS[err.reason ?? ''] ?? 'signature could not be verified';
}

export function describeClaims(check: TokenCheck): string {
  if (check.userinfo) {
    return `sub: PASS — present; exp: PASS — trusted until ${iso(check.claims!.exp)}`;
  }
  return claimChecks(check)
    .map((c) => c.text)
    .join('; ');
}

/** The verdict is the verifier's; the details explain each check (and name "other" if none failed). */
export function describeClaimsFailure(_err: AppError, check: TokenCheck): string {
  const checks = claimChecks(check);
  if (!checks.some((c) => !c.ok)) {
    checks.push({ ok: false, text: 'other: FAIL — a required claim is missing or invalid' });
  }
  return checks.map((c) => c.text).join('; ');
}

export function describeRevocationFailure(err: AppError): string {
  return err.kind === 'UNAVAILABLE' ? 'revocations not loaded yet on this node (503)' : 'revoked';
}

/** `sub` and `exp` once something vouches for them: the claims, or a verified signature. */
export function vouchedSubject(check: TokenCheck): { subject?: string; expiresAt?: Date } {
  if (check.claims) {
    return { subject: check.claims.sub, expiresAt: new Date(check.claims.exp * 1000) };
  }
  if (!check.signed || !check.jws) return {};
  const { sub, exp } = check.jws.payload;
  return {
    subject:
      typeof sub === 'string' && sub.length > 0 && sub.length <= MAX_SUB_LENGTH ? sub : undefined,
    expiresAt: typeof exp === 'number' ? new Date(exp * 1000) : undefined,
  };
}

interface Check {
  ok: boolean;
  text: string;
}

/** One line per check, mirroring issuerVerifyOptions / ownVerifyOptions and extractClaims. */
function claimChecks(check: TokenCheck): Check[] {
  const p = check.jws!.payload as JWTPayload;
  const header = check.jws!.header;
  const issuer = check.issuer!;
  const now = Math.floor(Date.now() / 1000);
  const tol = issuer.clockToleranceSeconds;
  const checks: Check[] = [];
  const add = (name: string, ok: boolean, text: string) =>
    checks.push({ ok, text: `${name}: ${ok ? 'PASS' : 'FAIL'} — ${text}` });

  add('iss', p.iss === issuer.issuer, p.iss === issuer.issuer ? 'matches' : 'does not match');

  const auds = typeof p.aud === 'string' ? [p.aud] : Array.isArray(p.aud) ? p.aud : [];
  const audText = auds
    .slice(0, MAX_AUD_SHOWN)
    .map((a) => (typeof a === 'string' ? shown(a) : '?'))
    .join(', ');
  if (issuer.audiences.length === 0) {
    add('aud', true, 'not checked (this issuer has no audiences configured)');
  } else if (auds.length === 0) {
    add('aud', false, 'missing');
  } else {
    const ok = auds.some((a) => typeof a === 'string' && issuer.audiences.includes(a));
    add('aud', ok, ok ? `accepted (${audText})` : `none of (${audText}) is a configured audience`);
  }

  if (typeof p.exp !== 'number') add('exp', false, 'missing');
  else if (p.exp + tol <= now) add('exp', false, `expired at ${iso(p.exp)}`);
  else add('exp', true, `expires at ${iso(p.exp)}`);

  if (typeof p.iat !== 'number') add('iat', false, 'missing');
  else if (p.iat > now + tol) add('iat', false, `in the future (${iso(p.iat)})`);
  else add('iat', true, `issued at ${iso(p.iat)}`);

  if (p.nbf === undefined) add('nbf', true, 'absent');
  else if (typeof p.nbf !== 'number') add('nbf', false, 'not a number');
  else if (p.nbf - tol > now) add('nbf', false, `not valid before ${iso(p.nbf)}`);
  else add('nbf', true, `valid from ${iso(p.nbf)}`);

  const subOk = typeof p.sub === 'string' && p.sub.length > 0 && p.sub.length <= MAX_SUB_LENGTH;
  add('sub', subOk, subOk ? 'present' : `missing or not 1-${MAX_SUB_LENGTH} characters`);

  if (isOwn(issuer)) {
    const typ =
      typeof header.typ === 'string' ? header.typ.toLowerCase().replace(/^application\//, '') : '';
    add(
      'typ',
      typ === ACCESS_TOKEN_TYP,
      typ === ACCESS_TOKEN_TYP ? ACCESS_TOKEN_TYP : `not ${ACCESS_TOKEN_TYP}`,
    );
    const ownOk =
      typeof (p as Record<string, unknown>).jti === 'string' &&
      typeof (p as Record<string, unknown>).client_id === 'string';
    add('jti/client_id', ownOk, ownOk ? 'present' : 'missing');
  }

  if (issuer.maxTokenAgeSeconds === undefined) {
    add('max age', true, 'no limit configured');
  } else if (typeof p.iat === 'number') {
    const age = Math.max(0, now - p.iat);
    const ok = age - tol <= issuer.maxTokenAgeSeconds;
    add(
      'max age',
      ok,
      `${age} s ${ok ? 'within' : 'exceeds'} the ${issuer.maxTokenAgeSeconds} s limit`,
    );
  } else {
    add('max age', false, 'cannot be checked without iat');
  }
  return checks;
}
