import { Injectable } from '@nestjs/common';
import { compactVerify, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppError } from 'src/common/errors/app-error';
import { ASYMMETRIC_ALGORITHMS, type TrustedIssuerConfig } from 'src/config/config.types';
import { IssuersService } from 'src/issuers/issuers.service';
import { JwksService } from 'src/token-validation/jwks.service';
import { MAX_TOKEN_LENGTH, tryParseCompactJws } from 'src/token-validation/jwt-format';
import {
  ACCESS_TOKEN_TYP,
  OWN_ISSUER_NAME,
  extractOwnClaims,
} from 'src/token-validation/own-tokens';
import { extractClaims, type TokenClaims } from 'src/token-validation/token-claims';
import { sha256Hex } from 'src/common/crypto/sha256';
import {
  TokenValidationService,
  mapVerifyError,
} from 'src/token-validation/token-validation.service';
import {
  assertIatNotInFuture,
  isOpaqueCandidate,
  issuerVerifyOptions,
  ownVerifyOptions,
} from 'src/token-validation/verify-options';

export type StepOutcome = 'PASS' | 'FAIL' | 'SKIPPED';

export interface ExplainStep {
  name: string;
  outcome: StepOutcome;
  detail: string | null;
}

/** What the token-level steps (format … revocation) found. */
export interface TokenExplainResult {
  steps: ExplainStep[];
  /** True when every token-level step passed (or did not apply): the token itself is valid. */
  verified: boolean;
  issuer?: TrustedIssuerConfig;
  /** The verified claims, when `verified`. */
  claims?: TokenClaims;
  /** `sub`, once the token's signature (or a cached verdict) vouches for it. */
  subject?: string;
  expiresAt?: Date;
}

export const SKIPPED_AFTER_FAILURE = 'not checked: an earlier step failed';

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

/** Records steps; once one fails, every later step is SKIPPED. */
class Steps {
  readonly list: ExplainStep[] = [];
  failed = false;

  add(name: string, outcome: StepOutcome, detail: string | null): void {
    this.list.push({ name, outcome, detail });
    if (outcome === 'FAIL') this.failed = true;
  }

  skipRest(names: string[], detail = SKIPPED_AFTER_FAILURE): void {
    for (const name of names) this.list.push({ name, outcome: 'SKIPPED', detail });
  }
}

const TOKEN_STEPS = ['format', 'issuer', 'key', 'signature', 'claims', 'revocation'] as const;

function remaining(after: (typeof TOKEN_STEPS)[number]): string[] {
  return TOKEN_STEPS.slice(TOKEN_STEPS.indexOf(after) + 1);
}

/**
 * Runs a token through the same checks as TokenValidationService, step by step, for an admin asking
 * "why was this token refused?" (issue 4 §4). Side-effect free towards IdPs beyond what validation
 * itself does for a known issuer (its JWKS): an unknown `iss` is never fetched, and a token is never
 * sent to a userinfo endpoint from here. Details are fixed texts: never the token, a signature or any
 * claim value other than the issuer name, `sub`, times, audiences and `kid`.
 */
@Injectable()
export class TokenExplainerService {
  constructor(
    private readonly tokens: TokenValidationService,
    private readonly issuers: IssuersService,
    private readonly jwks: JwksService,
  ) {}

  async explain(token: string): Promise<TokenExplainResult> {
    const steps = new Steps();
    // format
    let jws: ReturnType<typeof tryParseCompactJws>;
    try {
      jws = tryParseCompactJws(token);
    } catch (err) {
      steps.add('format', 'FAIL', formatDetail(err));
      steps.skipRest(remaining('format'));
      return { steps: steps.list, verified: false };
    }
    if (!jws) {
      const opaque = this.issuers.opaqueIssuer();
      if (!opaque || !isOpaqueCandidate(token)) {
        steps.add('format', 'FAIL', FORMAT_DETAILS.not_compact_jws);
        steps.skipRest(remaining('format'));
        return { steps: steps.list, verified: false };
      }
      steps.add('format', 'PASS', 'opaque token (not a JWT)');
      steps.add('issuer', 'PASS', `${opaque.name} (the issuer that accepts opaque tokens)`);
      return this.explainUserinfo(token, opaque, steps);
    }
    const { header, payload } = jws;
    const alg = typeof header.alg === 'string' && KNOWN_ALGS.has(header.alg) ? header.alg : null;
    steps.add('format', 'PASS', alg ? `compact JWS, alg ${alg}` : 'compact JWS');

    // issuer: exact `iss` lookup only; nothing is fetched for an unknown one (rule 1).
    const iss = payload.iss;
    const own = this.tokens.own;
    const issuer =
      iss === own.issuer ? own : typeof iss === 'string' ? this.issuers.findByIss(iss) : undefined;
    if (!issuer) {
      steps.add('issuer', 'FAIL', typeof iss === 'string' ? 'unknown issuer' : 'no iss claim');
      steps.skipRest(remaining('issuer'));
      return { steps: steps.list, verified: false };
    }
    steps.add(
      'issuer',
      'PASS',
      issuer.name === OWN_ISSUER_NAME ? `${OWN_ISSUER_NAME} (our own token)` : issuer.name,
    );
    if (issuer.name !== OWN_ISSUER_NAME && !issuer.jwksUrl) {
      return this.explainUserinfo(token, issuer, steps);
    }
    return this.explainSigned(token, header, issuer, steps);
  }

  /** JWTs verified with keys: ours from the database, a trusted issuer's from its JWKS. */
  private async explainSigned(
    token: string,
    header: Record<string, unknown>,
    issuer: TrustedIssuerConfig,
    steps: Steps,
  ): Promise<TokenExplainResult> {
    const isOwn = issuer.name === OWN_ISSUER_NAME;
    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    const kidText = kid === undefined ? 'no kid' : `kid ${shown(kid)}`;

    // key
    let resolveKey: JWTVerifyGetKey;
    let ownAlg: string | undefined;
    if (isOwn) {
      try {
        const found = await this.tokens.ownKey(header);
        ownAlg = found.alg;
        resolveKey = () => found.key;
        steps.add('key', 'PASS', `${kidText} is one of our signing keys`);
      } catch (err) {
        steps.add('key', 'FAIL', keyFailure(err, kidText, 'not one of our signing keys'));
        steps.skipRest(remaining('key'));
        return { steps: steps.list, verified: false, issuer };
      }
    } else {
      if (!(issuer.algorithms as string[]).includes(header.alg as string)) {
        steps.add('key', 'FAIL', "algorithm not in this issuer's allow-list");
        steps.skipRest(remaining('key'));
        return { steps: steps.list, verified: false, issuer };
      }
      resolveKey = this.jwks.keyResolver(issuer);
    }

    // signature (and, for a trusted issuer, the key lookup in its own key set)
    let key: Awaited<ReturnType<JWTVerifyGetKey>> | undefined;
    const recording: JWTVerifyGetKey = async (h, t) => {
      key = await resolveKey(h, t);
      return key;
    };
    try {
      await compactVerify(token, recording, {
        algorithms: ownAlg ? [ownAlg] : issuer.algorithms,
      });
    } catch (err) {
      if (!isOwn && key === undefined) {
        steps.add('key', 'FAIL', keyFailure(err, kidText, `not in ${issuer.name}'s key set`));
        steps.skipRest(remaining('key'));
        return { steps: steps.list, verified: false, issuer };
      }
      if (!isOwn) steps.add('key', 'PASS', `${kidText} found in ${issuer.name}'s key set`);
      const mapped = mapVerifyError(err);
      steps.add(
        'signature',
        'FAIL',
        SIGNATURE_DETAILS[mapped.reason ?? ''] ?? 'signature could not be verified',
      );
      steps.skipRest(remaining('signature'));
      return { steps: steps.list, verified: false, issuer };
    }
    if (!isOwn) steps.add('key', 'PASS', `${kidText} found in ${issuer.name}'s key set`);
    steps.add('signature', 'PASS', 'valid');

    // claims: the verdict is the real verifier's; the details explain each check.
    const payload = decodePayload(token);
    const subject =
      typeof payload.sub === 'string' && payload.sub.length > 0 && payload.sub.length <= 255
        ? payload.sub
        : undefined;
    const expiresAt = typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : undefined;
    let claims: TokenClaims | undefined;
    let failure: AppError | undefined;
    try {
      const verified = await jwtVerify(
        token,
        key!,
        isOwn ? ownVerifyOptions(issuer, ownAlg!) : issuerVerifyOptions(issuer),
      );
      if (!isOwn) assertIatNotInFuture(verified.payload, issuer.clockToleranceSeconds);
      claims = isOwn ? extractOwnClaims(verified.payload) : extractClaims(verified.payload);
    } catch (err) {
      failure = mapVerifyError(err);
    }
    const checks = claimChecks(payload, header, issuer, isOwn);
    if (failure && !checks.some((c) => !c.ok)) {
      checks.push({ ok: false, text: 'other: FAIL — a required claim is missing or invalid' });
    }
    const detail = checks.map((c) => c.text).join('; ');
    if (!claims) {
      steps.add('claims', 'FAIL', detail);
      steps.skipRest(remaining('claims'));
      return { steps: steps.list, verified: false, issuer, subject, expiresAt };
    }
    steps.add('claims', 'PASS', detail);
    return this.explainRevocation(issuer, claims, steps);
  }

  private explainRevocation(
    issuer: TrustedIssuerConfig,
    claims: TokenClaims,
    steps: Steps,
  ): TokenExplainResult {
    const result = {
      issuer,
      subject: claims.sub,
      expiresAt: new Date(claims.exp * 1000),
    };
    if (!claims.own) {
      steps.add('revocation', 'SKIPPED', "only Bridgekeeper's own tokens can be revoked");
      return { steps: steps.list, verified: true, claims, ...result };
    }
    try {
      this.tokens.assertNotRevoked(claims);
    } catch (err) {
      const unavailable = err instanceof AppError && err.kind === 'UNAVAILABLE';
      steps.add(
        'revocation',
        'FAIL',
        unavailable ? 'revocations not loaded yet on this node (503)' : 'revoked',
      );
      return { steps: steps.list, verified: false, ...result };
    }
    steps.add('revocation', 'PASS', 'not revoked');
    return { steps: steps.list, verified: true, claims, ...result };
  }

  /**
   * Issuers known only by a userinfo endpoint: explain never sends the token there (that would hand a
   * user's token to an IdP as a side effect). Only a verdict already cached is reported.
   */
  private async explainUserinfo(
    token: string,
    issuer: TrustedIssuerConfig,
    steps: Steps,
  ): Promise<TokenExplainResult> {
    const cached = await this.tokens.cachedVerdict(sha256Hex(token));
    if (!cached || cached.issuer.name !== issuer.name) {
      steps.add(
        'key',
        'SKIPPED',
        'validated by the userinfo endpoint, which explain does not call; no cached verdict for this token',
      );
      steps.skipRest(remaining('key'), 'not checked: needs the userinfo endpoint');
      return { steps: steps.list, verified: false, issuer };
    }
    steps.add(
      'key',
      'PASS',
      'validated by the userinfo endpoint (cached verdict; not called again)',
    );
    steps.add('signature', 'PASS', 'accepted by the userinfo endpoint (cached verdict)');
    steps.add(
      'claims',
      'PASS',
      `sub: PASS — present; exp: PASS — trusted until ${iso(cached.claims.exp)}`,
    );
    return this.explainRevocation(issuer, cached.claims, steps);
  }
}

function formatDetail(err: unknown): string {
  const reason = err instanceof AppError ? err.reason : undefined;
  return FORMAT_DETAILS[reason ?? ''] ?? 'malformed token';
}

function keyFailure(err: unknown, kidText: string, unknownText: string): string {
  if (err instanceof AppError && err.kind === 'UNAVAILABLE') {
    return 'key set unavailable: the issuer cannot be reached (503)';
  }
  const mapped = mapVerifyError(err);
  if (mapped.reason === 'unknown_kid') return `${kidText} ${unknownText}`;
  if (mapped.reason === 'alg_not_allowed') return 'algorithm does not match the key';
  return `${kidText}: no usable key`;
}

function decodePayload(token: string): JWTPayload {
  // Already parsed (as an object) by tryParseCompactJws; read again now that the signature verified.
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as JWTPayload;
}

interface Check {
  ok: boolean;
  text: string;
}

/** One line per check, mirroring issuerVerifyOptions / ownVerifyOptions and extractClaims. */
function claimChecks(
  p: JWTPayload,
  header: Record<string, unknown>,
  issuer: TrustedIssuerConfig,
  isOwn: boolean,
): Check[] {
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

  if (isOwn) {
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
