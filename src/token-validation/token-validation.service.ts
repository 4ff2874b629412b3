import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { CacheKeys } from 'src/cache/cache-keys';
import { CacheService } from 'src/cache/cache.service';
import { AppError } from 'src/common/errors/app-error';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig, TrustedIssuerConfig } from 'src/config/config.types';
import { IssuersService } from 'src/issuers/issuers.service';
import { MetricsService } from 'src/metrics/metrics.service';
import { RevocationService } from 'src/revocation/revocation.service';
import { SigningKeysService, type VerificationKey } from 'src/signing-keys/signing-keys.service';
import { OWN_ISSUER_NAME, extractOwnClaims, ownIssuer } from 'src/token-validation/own-tokens';
import { JwksService } from 'src/token-validation/jwks.service';
import { tryParseCompactJws } from 'src/token-validation/jwt-format';
import { extractClaims, type TokenClaims } from 'src/token-validation/token-claims';
import { UserinfoValidatorService } from 'src/token-validation/userinfo-validator.service';
import {
  TokenErrorCode,
  invalidToken,
  issuerUnavailable,
} from 'src/token-validation/token-validation.errors';
import {
  assertIatNotInFuture,
  isOpaqueCandidate,
  issuerVerifyOptions,
  ownVerifyOptions,
} from 'src/token-validation/verify-options';
import { sha256Hex } from 'src/common/crypto/sha256';

export interface ValidatedToken {
  issuer: TrustedIssuerConfig;
  claims: TokenClaims;
  /** SHA-256 of the token, hex: the cache key material and, shortened, the log fingerprint. */
  sha256: string;
  /** True when the signature was verified by this call (false: served from the verified-token cache). */
  fresh: boolean;
}

interface CachedToken {
  issuer: string;
  iss: string;
  /** The issuer's revision when verified: a changed (database) issuer's tokens are verified again. */
  revision?: number;
  claims: TokenClaims;
}

const LOCAL_TTL_MS = 60_000;

/**
 * Validates bearer JWTs from trusted issuers (SECURITY.md rules 1-4): exact-`iss` issuer lookup before
 * any key fetch, that issuer's keys only, every verification option set, and one generic 401 for every
 * failure. Verified tokens are cached by their SHA-256 until `exp` at the latest.
 */
@Injectable()
export class TokenValidationService {
  /**
   * With a shared (Redis) cache, a small in-process layer in front of it: that a token verified is a fact
   * that never changes until `exp`, and every hit still re-checks `exp` and the issuer. Keyed by SHA-256.
   */
  private readonly local?: LRUCache<string, CachedToken>;
  /** Bridgekeeper itself: tokens whose `iss` is our public URL, verified with our own keys. */
  readonly own: TrustedIssuerConfig;

  constructor(
    private readonly issuers: IssuersService,
    private readonly jwks: JwksService,
    private readonly cache: CacheService,
    private readonly metrics: MetricsService,
    private readonly userinfo: UserinfoValidatorService,
    private readonly signingKeys: SigningKeysService,
    private readonly revocations: RevocationService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    if (cache.kind !== 'memory') this.local = new LRUCache({ max: 10_000, ttl: LOCAL_TTL_MS });
    this.own = ownIssuer(config);
  }

  issuerNamed(name: string): TrustedIssuerConfig | undefined {
    return name === OWN_ISSUER_NAME ? this.own : this.issuers.findByName(name);
  }

  /**
   * Our own tokens can be revoked: checked on every use, cached or not, against the revocations every
   * node holds in memory. Until they could be read once, our tokens are a 503 (not the caller's fault).
   */
  assertNotRevoked(claims: TokenClaims): void {
    if (!claims.own) return;
    if (!this.revocations.ready) throw issuerUnavailable('revocations_unavailable');
    if (
      this.revocations.isRevoked({
        jti: claims.own.jti,
        sid: claims.own.sid,
        sub: claims.sub,
        clientId: claims.own.clientId,
        iat: claims.iat,
      })
    ) {
      throw invalidToken(TokenErrorCode.TOKEN_REVOKED, 'revoked');
    }
  }

  /**
   * The still-usable cached verdict for a token (by its SHA-256), if any: its issuer still trusted with
   * the same `iss` and revision, and not expired. Revocation is not checked here.
   */
  async cachedVerdict(
    sha256: string,
  ): Promise<{ issuer: TrustedIssuerConfig; claims: TokenClaims } | undefined> {
    let cached = this.local?.get(sha256);
    if (!cached) {
      cached = await this.cache.get<CachedToken>(CacheKeys.verifiedToken(sha256));
      if (cached) this.local?.set(sha256, cached);
    }
    if (!cached) return undefined;
    const issuer = this.issuerNamed(cached.issuer);
    // Re-check expiry on every hit, and that the issuer is still trusted with the same `iss`.
    if (
      issuer &&
      issuer.issuer === cached.iss &&
      issuer.revision === cached.revision &&
      cached.claims.exp * 1000 > Date.now()
    ) {
      return { issuer, claims: cached.claims };
    }
    return undefined;
  }

  async validate(token: string): Promise<ValidatedToken> {
    const sha256 = sha256Hex(token);
    const key = CacheKeys.verifiedToken(sha256);
    const hit = await this.cachedVerdict(sha256);
    if (hit) {
      const { issuer, claims } = hit;
      this.assertNotRevokedCounted(issuer, claims);
      this.metrics.tokenValidations.inc({
        issuer: issuer.name,
        outcome: 'valid',
        reason: 'cached',
      });
      return { issuer, claims, sha256, fresh: false };
    }
    let issuerName = 'unknown';
    try {
      const { issuer, claims, reason } = await this.validateFresh(token, sha256, (name) => {
        issuerName = name;
      });
      this.assertNotRevoked(claims);
      const ttlMs = claims.exp * 1000 - Date.now();
      if (ttlMs > 0) {
        const entry: CachedToken = {
          issuer: issuer.name,
          iss: issuer.issuer,
          revision: issuer.revision,
          claims,
        };
        this.local?.set(sha256, entry, { ttl: Math.min(ttlMs, LOCAL_TTL_MS) });
        await this.cache.set(key, entry, ttlMs);
      }
      this.metrics.tokenValidations.inc({ issuer: issuer.name, outcome: 'valid', reason });
      return { issuer, claims, sha256, fresh: true };
    } catch (err) {
      const known =
        err instanceof AppError
          ? err
          : invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'unexpected', err);
      this.metrics.tokenValidations.inc({
        issuer: issuerName,
        outcome: known.kind === 'UNAVAILABLE' ? 'error' : 'invalid',
        reason: known.reason ?? 'unknown',
      });
      throw known;
    }
  }

  private assertNotRevokedCounted(issuer: TrustedIssuerConfig, claims: TokenClaims): void {
    try {
      this.assertNotRevoked(claims);
    } catch (err) {
      const known = err as AppError;
      this.metrics.tokenValidations.inc({
        issuer: issuer.name,
        outcome: known.kind === 'UNAVAILABLE' ? 'error' : 'invalid',
        reason: known.reason ?? 'unknown',
      });
      throw err;
    }
  }

  /**
   * A token not in the cache: a JWT of an issuer with a JWKS is verified locally; a JWT of an issuer
   * known only by its userinfo endpoint, or an opaque token when exactly one issuer accepts them, is
   * checked by calling that endpoint (once for concurrent identical tokens).
   */
  private async validateFresh(
    token: string,
    sha256: string,
    onIssuer: (name: string) => void,
  ): Promise<{ issuer: TrustedIssuerConfig; claims: TokenClaims; reason: string }> {
    const jws = tryParseCompactJws(token);
    if (!jws) {
      const issuer = this.issuers.opaqueIssuer();
      // A JWE or any other JOSE-shaped token is never "opaque": its issuer is not known, so it must
      // not be sent to the opaque issuer's userinfo endpoint (rule 7).
      if (!issuer || !isOpaqueCandidate(token)) {
        throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'not_compact_jws');
      }
      onIssuer(issuer.name);
      return { issuer, claims: await this.viaUserinfo(token, sha256, issuer), reason: 'userinfo' };
    }
    const { header, payload } = jws;
    const iss = payload.iss;
    if (iss === this.own.issuer) {
      onIssuer(OWN_ISSUER_NAME);
      return { issuer: this.own, claims: await this.verifyOwn(token, header), reason: 'verified' };
    }
    const issuer = typeof iss === 'string' ? this.issuers.findByIss(iss) : undefined;
    if (!issuer) throw invalidToken(TokenErrorCode.TOKEN_ISSUER_UNTRUSTED, 'unknown_issuer');
    onIssuer(issuer.name);
    if (!issuer.jwksUrl) {
      return {
        issuer,
        claims: await this.viaUserinfo(token, sha256, issuer, payload),
        reason: 'userinfo',
      };
    }
    if (!(issuer.algorithms as string[]).includes(header.alg as string)) {
      throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'alg_not_allowed');
    }
    return { issuer, claims: extractClaims(await this.verify(token, issuer)), reason: 'verified' };
  }

  /**
   * Bridgekeeper's own access tokens: our keys only (by `kid`, from the database, never from a header),
   * `typ: at+jwt` (so an ID token or any other JWT we sign is never an access token), our audience, and
   * the claims RFC 9068 requires.
   */
  private async verifyOwn(token: string, header: Record<string, unknown>): Promise<TokenClaims> {
    const found = await this.ownKey(header);
    try {
      const { payload } = await jwtVerify(token, found.key, ownVerifyOptions(this.own, found.alg));
      return extractOwnClaims(payload);
    } catch (err) {
      throw mapVerifyError(err);
    }
  }

  /** Our signing key a token header names (by `kid` only), with the algorithm it must use. */
  async ownKey(header: Record<string, unknown>): Promise<VerificationKey> {
    const kid = header.kid;
    if (typeof kid !== 'string' || kid.length === 0 || kid.length > 128) {
      throw invalidToken(TokenErrorCode.TOKEN_KEY_UNKNOWN, 'unknown_kid');
    }
    const found = await this.signingKeys.verificationKey(kid);
    if (!found) throw invalidToken(TokenErrorCode.TOKEN_KEY_UNKNOWN, 'unknown_kid');
    if (header.alg !== found.alg)
      throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'alg_not_allowed');
    return found;
  }

  private viaUserinfo(
    token: string,
    sha256: string,
    issuer: TrustedIssuerConfig,
    jwtPayload?: Record<string, unknown>,
  ): Promise<TokenClaims> {
    // Many concurrent requests with the same new token: one call to the IdP (per node).
    return this.cache.singleFlight(`userinfo:${issuer.name}:${sha256}`, () =>
      this.userinfo.validate(token, issuer, jwtPayload),
    );
  }

  private async verify(token: string, issuer: TrustedIssuerConfig): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(
        token,
        this.jwks.keyResolver(issuer),
        issuerVerifyOptions(issuer),
      );
      assertIatNotInFuture(payload, issuer.clockToleranceSeconds);
      return payload;
    } catch (err) {
      throw mapVerifyError(err);
    }
  }
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
