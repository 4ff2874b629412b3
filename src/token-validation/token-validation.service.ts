import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { CacheKeys } from 'src/cache/cache-keys';
import { CacheService } from 'src/cache/cache.service';
import { sha256Hex } from 'src/common/crypto/sha256';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig, TrustedIssuerConfig } from 'src/config/config.types';
import { IssuersService } from 'src/issuers/issuers.service';
import { MetricsService } from 'src/metrics/metrics.service';
import { RevocationService } from 'src/revocation/revocation.service';
import { SigningKeysService } from 'src/signing-keys/signing-keys.service';
import { JwksService } from 'src/token-validation/jwks.service';
import { OWN_ISSUER_NAME, ownIssuer } from 'src/token-validation/own-tokens';
import type { TokenClaims } from 'src/token-validation/token-claims';
import {
  EVERY_USE_STEPS,
  type StepOutcome,
  TOKEN_STEPS,
  type TokenCheck,
  type TokenStepDeps,
  type UserinfoVerdict,
  asRefusal,
} from 'src/token-validation/token-steps';
import { UserinfoValidatorService } from 'src/token-validation/userinfo-validator.service';

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
 * How long a userinfo answer is reused for the same token on this node after its single flight settled:
 * long enough to cover the gap until the verdict is in the verified-token cache (the remaining steps and
 * a Redis write), short enough that it changes nothing a cached verdict would not.
 */
const USERINFO_SETTLED_TTL_MS = 5_000;

/**
 * Validates bearer tokens (SECURITY.md rules 1-4, 7): TOKEN_STEPS in order (exact-`iss` issuer lookup
 * before any key fetch, that issuer's keys only, every verification option set), one generic 401 for
 * every refusal. Verified tokens are cached by their SHA-256 until `exp` at the latest; revocation is
 * checked on every use.
 */
@Injectable()
export class TokenValidationService {
  /**
   * With a shared (Redis) cache, a small in-process layer in front of it: that a token verified is a fact
   * that never changes until `exp`, and every hit still re-checks `exp` and the issuer. Keyed by SHA-256.
   */
  private readonly local?: LRUCache<string, CachedToken>;
  /** Userinfo answers just settled, by `<issuer>:<token SHA-256>`: see USERINFO_SETTLED_TTL_MS. */
  private readonly settledUserinfo = new LRUCache<string, TokenClaims>({
    max: 10_000,
    ttl: USERINFO_SETTLED_TTL_MS,
  });
  /** Bridgekeeper itself: tokens whose `iss` is our public URL, verified with our own keys. */
  private readonly own: TrustedIssuerConfig;
  private readonly deps: TokenStepDeps;
  private readonly readOnlyDeps: TokenStepDeps;

  constructor(
    private readonly issuers: IssuersService,
    jwks: JwksService,
    private readonly cache: CacheService,
    private readonly metrics: MetricsService,
    private readonly userinfo: UserinfoValidatorService,
    signingKeys: SigningKeysService,
    revocations: RevocationService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    if (cache.kind !== 'memory') this.local = new LRUCache({ max: 10_000, ttl: LOCAL_TTL_MS });
    this.own = ownIssuer(config);
    const deps = {
      own: this.own,
      issuers,
      signingKeys,
      keyResolver: (issuer: TrustedIssuerConfig) => jwks.keyResolver(issuer),
      revocations,
    };
    this.deps = { ...deps, userinfo: (check, issuer) => this.askUserinfo(check, issuer) };
    this.readOnlyDeps = {
      ...deps,
      userinfo: (check, issuer) => this.cachedUserinfo(check, issuer),
    };
  }

  private issuerNamed(name: string): TrustedIssuerConfig | undefined {
    return name === OWN_ISSUER_NAME ? this.own : this.issuers.findByName(name);
  }

  /**
   * The still-usable cached verdict for a token (by its SHA-256), if any: its issuer still trusted with
   * the same `iss` and revision, and not expired. Revocation is not checked here.
   */
  private async cachedVerdict(
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

  /**
   * TOKEN_STEPS to the first refusal; a token verified before (cached by its SHA-256) only runs the
   * steps checked on every use (revocation).
   */
  async validate(token: string): Promise<ValidatedToken> {
    const sha256 = sha256Hex(token);
    const hit = await this.cachedVerdict(sha256);
    const check: TokenCheck = hit ? { token, sha256, ...hit } : { token, sha256 };
    try {
      for (const step of hit ? EVERY_USE_STEPS : TOKEN_STEPS) {
        if (isUndecided(await step.run(check, this.deps))) {
          // Only a read-only run (explain) leaves a step undecided.
          throw new Error(`token step ${step.name} undecided while validating`);
        }
      }
    } catch (err) {
      const known = asRefusal(err);
      this.metrics.tokenValidations.inc({
        issuer: check.issuer?.name ?? 'unknown',
        outcome: known.kind === 'UNAVAILABLE' ? 'error' : 'invalid',
        reason: known.reason ?? 'unknown',
      });
      throw known;
    }
    const issuer = check.issuer!;
    const claims = check.claims!;
    if (!hit) await this.remember(sha256, issuer, claims);
    this.metrics.tokenValidations.inc({
      issuer: issuer.name,
      outcome: 'valid',
      reason: hit ? 'cached' : check.userinfo ? 'userinfo' : 'verified',
    });
    return { issuer, claims, sha256, fresh: !hit };
  }

  private async remember(
    sha256: string,
    issuer: TrustedIssuerConfig,
    claims: TokenClaims,
  ): Promise<void> {
    const ttlMs = claims.exp * 1000 - Date.now();
    if (ttlMs <= 0) return;
    const entry: CachedToken = {
      issuer: issuer.name,
      iss: issuer.issuer,
      revision: issuer.revision,
      claims,
    };
    this.local?.set(sha256, entry, { ttl: Math.min(ttlMs, LOCAL_TTL_MS) });
    await this.cache.set(CacheKeys.verifiedToken(sha256), entry, ttlMs);
  }

  /** What the steps use; `readOnly` (explain): a userinfo verdict only from the cache, never asked. */
  stepDeps(readOnly: boolean): TokenStepDeps {
    return readOnly ? this.readOnlyDeps : this.deps;
  }

  /**
   * Asks the issuer's userinfo endpoint once for concurrent identical tokens, per node. A request that
   * missed the verified-token cache just before the first request's verdict reached it (a Redis round
   * trip away) reuses the answer that first request got instead of asking the issuer again.
   */
  private async askUserinfo(
    check: TokenCheck,
    issuer: TrustedIssuerConfig,
  ): Promise<UserinfoVerdict> {
    const key = `${issuer.name}:${issuer.revision ?? 0}:${check.sha256}`;
    const settled = this.settledUserinfo.get(key);
    if (settled && settled.exp * 1000 > Date.now()) return { claims: settled, cached: false };
    const claims = await this.cache.singleFlight(`userinfo:${key}`, async () => {
      const answer = await this.userinfo.validate(check.token, issuer, check.jws?.payload);
      const ttl = Math.min(USERINFO_SETTLED_TTL_MS, answer.exp * 1000 - Date.now());
      if (ttl > 0) this.settledUserinfo.set(key, answer, { ttl });
      return answer;
    });
    return { claims, cached: false };
  }

  /** Only a verdict a real request already cached, of this same issuer. */
  private async cachedUserinfo(
    check: TokenCheck,
    issuer: TrustedIssuerConfig,
  ): Promise<UserinfoVerdict | undefined> {
    const cached = await this.cachedVerdict(check.sha256);
    return cached?.issuer.name === issuer.name
      ? { claims: cached.claims, cached: true }
      : undefined;
  }
}

function isUndecided(outcome: StepOutcome): boolean {
  return outcome !== undefined && 'undecided' in outcome;
}
