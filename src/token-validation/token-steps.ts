import { compactVerify, type JWTVerifyGetKey } from 'jose';
import { AppError } from 'src/common/errors/app-error';
import type { TrustedIssuerConfig } from 'src/config/config.types';
import type { IssuersService } from 'src/issuers/issuers.service';
import type { RevocationService } from 'src/revocation/revocation.service';
import type { SigningKeysService } from 'src/signing-keys/signing-keys.service';
import { type UnverifiedJws, tryParseCompactJws } from 'src/token-validation/jwt-format';
import { extractOwnClaims, isOwnIssuer as isOwn } from 'src/token-validation/own-tokens';
import { extractClaims, type TokenClaims } from 'src/token-validation/token-claims';
import {
  describeClaims,
  describeClaimsFailure,
  describeFormat,
  describeFormatFailure,
  describeIssuer,
  describeIssuerFailure,
  describeKey,
  describeKeyFailure,
  describeRevocationFailure,
  describeSignature,
  describeSignatureFailure,
} from 'src/token-validation/token-step-details';
import {
  TokenErrorCode,
  invalidToken,
  issuerUnavailable,
} from 'src/token-validation/token-validation.errors';
import {
  assertIatNotInFuture,
  isOpaqueCandidate,
  issuerVerifyOptions,
  mapVerifyError,
  ownVerifyOptions,
  verifiedClaimsSet,
} from 'src/token-validation/verify-options';

export type TokenStepName = 'format' | 'issuer' | 'key' | 'signature' | 'claims' | 'revocation';

/** A key jose verifies with (what a key resolver answers). */
export type VerifyKey = Awaited<ReturnType<JWTVerifyGetKey>>;

/** A verdict of a userinfo endpoint, and whether it was read from the cache rather than asked now. */
export interface UserinfoVerdict {
  claims: TokenClaims;
  cached: boolean;
}

/** What the steps may use. Validation and explanation differ only in `userinfo`. */
export interface TokenStepDeps {
  /** Bridgekeeper itself as an issuer (its keys come from the database). */
  own: TrustedIssuerConfig;
  issuers: Pick<IssuersService, 'findByIss' | 'opaqueIssuer'>;
  signingKeys: Pick<SigningKeysService, 'verificationKey'>;
  keyResolver(issuer: TrustedIssuerConfig): JWTVerifyGetKey;
  revocations: Pick<RevocationService, 'ready' | 'isRevoked'>;
  /**
   * The verdict on a token of an issuer known only by its userinfo endpoint. Validation asks the
   * endpoint; explanation only reads a cached verdict (`undefined`: none), never sending a user's token
   * anywhere (SECURITY.md rule 7).
   */
  userinfo(check: TokenCheck, issuer: TrustedIssuerConfig): Promise<UserinfoVerdict | undefined>;
}

/** What the steps learn about one token, in order. */
export interface TokenCheck {
  readonly token: string;
  /** SHA-256 of the token, hex. */
  readonly sha256: string;
  /** format: the unverified compact JWS; `undefined` with `opaque` for an opaque token. */
  jws?: UnverifiedJws;
  opaque?: boolean;
  /** issuer: the trusted issuer (or ourselves) the token claims to come from. */
  issuer?: TrustedIssuerConfig;
  /** key: the key to verify the signature with, and the algorithms it may be used with. */
  key?: VerifyKey;
  algorithms?: string[];
  /** key: set instead of `key` when the issuer's userinfo endpoint vouched for the token. */
  userinfo?: { cached: boolean };
  /** signature: the signature verified with `key`. */
  signed?: boolean;
  /** claims (or key, for userinfo): the verified claims. */
  claims?: TokenClaims;
}

/**
 * A step that does not fail either passes (nothing returned), does not apply (`skipped`), or cannot be
 * decided here (`undecided`: explain without a cached userinfo verdict), which ends the run.
 */
export type StepOutcome = undefined | { skipped: string } | { undecided: string; rest: string };

export interface TokenStep {
  readonly name: TokenStepName;
  /** Checked on every use, a cached verdict included (not only when the token is first verified). */
  readonly everyUse: boolean;
  /** Runs the check; a refusal throws the AppError validation answers with (401, or 503). */
  run(check: TokenCheck, deps: TokenStepDeps): Promise<StepOutcome> | StepOutcome;
  /** For explain: a fixed text for PASS (never the token, a signature or arbitrary claim values). */
  passed(check: TokenCheck): string;
  /** For explain: a fixed text for the refusal `run` threw. */
  failed(err: AppError, check: TokenCheck): string;
}

/** SECURITY.md rule 3: compact JWS only, bounded; an opaque token only when an issuer accepts them. */
function checkFormat(check: TokenCheck, deps: TokenStepDeps): StepOutcome {
  check.jws = tryParseCompactJws(check.token);
  if (check.jws) return undefined;
  // A JWE or any other JOSE-shaped token is never "opaque": its issuer is not known, so it must not be
  // sent to the opaque issuer's userinfo endpoint (rule 7).
  if (!deps.issuers.opaqueIssuer() || !isOpaqueCandidate(check.token)) {
    throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'not_compact_jws');
  }
  check.opaque = true;
  return undefined;
}

/** Rule 1: the exact `iss` looks the issuer up; an unknown one is refused before any key fetch. */
function checkIssuer(check: TokenCheck, deps: TokenStepDeps): StepOutcome {
  const iss = check.jws?.payload.iss;
  check.issuer = check.opaque
    ? deps.issuers.opaqueIssuer()
    : iss === deps.own.issuer
      ? deps.own
      : typeof iss === 'string'
        ? deps.issuers.findByIss(iss)
        : undefined;
  if (!check.issuer) throw invalidToken(TokenErrorCode.TOKEN_ISSUER_UNTRUSTED, 'unknown_issuer');
  return undefined;
}

/**
 * Rules 1 and 3: our keys from the database by `kid`, a trusted issuer's from its own key set after its
 * algorithm allow-list; an issuer known only by its userinfo endpoint is asked there (rule 7).
 */
async function checkKey(check: TokenCheck, deps: TokenStepDeps): Promise<StepOutcome> {
  const issuer = check.issuer!;
  if (check.opaque || (!isOwn(issuer) && !issuer.jwksUrl)) {
    const verdict = await deps.userinfo(check, issuer);
    if (!verdict) {
      return {
        undecided:
          'validated by the userinfo endpoint, which explain does not call; no cached verdict for this token',
        rest: 'not checked: needs the userinfo endpoint',
      };
    }
    check.userinfo = { cached: verdict.cached };
    check.claims = verdict.claims;
    return undefined;
  }
  const header = check.jws!.header;
  if (isOwn(issuer)) {
    const kid = header.kid;
    if (typeof kid !== 'string' || kid.length === 0 || kid.length > 128) {
      throw invalidToken(TokenErrorCode.TOKEN_KEY_UNKNOWN, 'unknown_kid');
    }
    const found = await deps.signingKeys.verificationKey(kid);
    if (!found) throw invalidToken(TokenErrorCode.TOKEN_KEY_UNKNOWN, 'unknown_kid');
    if (header.alg !== found.alg) {
      throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'alg_not_allowed');
    }
    check.key = found.key;
    check.algorithms = [found.alg];
    return undefined;
  }
  if (!(issuer.algorithms as string[]).includes(header.alg as string)) {
    throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'alg_not_allowed');
  }
  const [protectedHeader, payload, signature] = check.token.split('.');
  try {
    check.key = await deps.keyResolver(issuer)(header as Parameters<JWTVerifyGetKey>[0], {
      protected: protectedHeader,
      payload,
      signature,
    });
  } catch (err) {
    throw mapVerifyError(err);
  }
  check.algorithms = issuer.algorithms;
  return undefined;
}

/** The signature, with the key the previous step found and its algorithms only. */
async function checkSignature(check: TokenCheck): Promise<StepOutcome> {
  if (check.userinfo) return undefined;
  try {
    await compactVerify(check.token, check.key!, { algorithms: check.algorithms });
  } catch (err) {
    throw mapVerifyError(err);
  }
  check.signed = true;
  return undefined;
}

/**
 * Rule 2: every verification option (issuer, audience, times, required claims, maximum age, and
 * `typ: at+jwt` for ours), no `iat` in the future, then the claims Bridgekeeper keeps, bounded.
 */
function checkClaims(check: TokenCheck): StepOutcome {
  if (check.userinfo) return undefined;
  const issuer = check.issuer!;
  const own = isOwn(issuer);
  try {
    const payload = verifiedClaimsSet(
      check.token,
      check.jws!.header,
      own ? ownVerifyOptions(issuer, check.algorithms![0]) : issuerVerifyOptions(issuer),
    );
    assertIatNotInFuture(payload, issuer.clockToleranceSeconds);
    check.claims = own ? extractOwnClaims(payload) : extractClaims(payload);
  } catch (err) {
    throw mapVerifyError(err);
  }
  return undefined;
}

/**
 * Our own tokens can be revoked: checked on every use, cached or not, against the revocations every
 * node holds in memory. Until they could be read once, our tokens are a 503 (not the caller's fault).
 */
function checkRevocation(check: TokenCheck, deps: TokenStepDeps): StepOutcome {
  const claims = check.claims!;
  if (!claims.own) return { skipped: "only Bridgekeeper's own tokens can be revoked" };
  if (!deps.revocations.ready) throw issuerUnavailable('revocations_unavailable');
  if (
    deps.revocations.isRevoked({
      jti: claims.own.jti,
      sid: claims.own.sid,
      sub: claims.sub,
      clientId: claims.own.clientId,
      iat: claims.iat,
    })
  ) {
    throw invalidToken(TokenErrorCode.TOKEN_REVOKED, 'revoked');
  }
  return undefined;
}

/**
 * The one ordered list of token checks: `validate` runs it to the first refusal, `explain` runs it to
 * record every step. A new rule is a new step here (or a change to one), and both follow.
 */
export const TOKEN_STEPS: readonly TokenStep[] = [
  {
    name: 'format',
    everyUse: false,
    run: checkFormat,
    passed: describeFormat,
    failed: describeFormatFailure,
  },
  {
    name: 'issuer',
    everyUse: false,
    run: checkIssuer,
    passed: describeIssuer,
    failed: describeIssuerFailure,
  },
  { name: 'key', everyUse: false, run: checkKey, passed: describeKey, failed: describeKeyFailure },
  {
    name: 'signature',
    everyUse: false,
    run: checkSignature,
    passed: describeSignature,
    failed: describeSignatureFailure,
  },
  {
    name: 'claims',
    everyUse: false,
    run: checkClaims,
    passed: describeClaims,
    failed: describeClaimsFailure,
  },
  {
    name: 'revocation',
    everyUse: true,
    run: checkRevocation,
    passed: () => 'not revoked',
    failed: describeRevocationFailure,
  },
];

/** The steps checked again on a cached verdict. */
export const EVERY_USE_STEPS = TOKEN_STEPS.filter((s) => s.everyUse);

/** Anything a step threw, as the refusal it means (a library error is never a 500: rule 4). */
export function asRefusal(err: unknown): AppError {
  return err instanceof AppError
    ? err
    : invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'unexpected', err);
}
