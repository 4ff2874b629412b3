import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig, TrustedIssuerConfig } from 'src/config/config.types';
import { EndpointError, type EndpointProblem, fetchKeySet } from 'src/issuers/issuer-endpoints';
import { type IssuersChange, IssuersService } from 'src/issuers/issuers.service';
import { KeySetStatusBoard } from 'src/issuers/key-set-status';
import { MetricsService } from 'src/metrics/metrics.service';
import { OutboundHttpService } from 'src/outbound/outbound-http.service';
import { issuerUnavailable } from 'src/token-validation/token-validation.errors';

/** How often the background refresher looks for key sets that are due. */
const BACKGROUND_TICK_MS = 1_000;
/** After a failed fetch the background retries after 5 s, then 10, 20... up to the refresh period. */
const RETRY_FIRST_MS = 5_000;

interface KeySetState {
  getKey?: JWTVerifyGetKey;
  kids: Set<string>;
  /** When the key set in use was fetched (0 = never). */
  fetchedAt: number;
  /** Last fetch attempt, successful or not: the unknown-kid cooldown counts from here. */
  attemptedAt: number;
  /** Whether the last fetch attempt failed (the IdP is down or answering garbage). */
  lastFailed: boolean;
  keyCount: number;
  /** Failed attempts since the last success (spaces the background retries). */
  failures: number;
  lastError?: EndpointProblem & { at: number };
  /** When the background refresher fetches next (epoch ms). */
  nextAttemptAt: number;
  inflight?: Promise<void>;
}

/**
 * One key set per trusted issuer, fetched only from that issuer's configured JWKS URL (SECURITY.md rules
 * 1, 3, 9): never pooled, never looked up across issuers. Fetched at start and refreshed in the
 * background; an unknown `kid` triggers at most one refetch per cooldown; a failed refresh keeps the last
 * good set for at most `jwks.max.stale.seconds`; an issuer with no usable keys is "unavailable" (503).
 * Issuers added at runtime get their key set fetched in the background; a changed JWKS URL starts a new
 * key set (the old one is never used for the new URL); a deleted issuer's key set is dropped. A failed
 * fetch is retried in the background after 5 s, 10 s, 20 s... up to the refresh period, logged with the
 * issuer, the HTTP status or network error and the URL, and reported on the key-set status board (admin
 * API, readiness).
 */
@Injectable()
export class JwksService implements OnModuleInit, OnApplicationShutdown {
  private readonly states = new Map<string, KeySetState>();
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly issuers: IssuersService,
    private readonly http: OutboundHttpService,
    private readonly board: KeySetStatusBoard,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.issuers.onChange((change) => this.onIssuersChanged(change));
    // Warm every key set without delaying start-up; requests that arrive first wait for the fetch.
    for (const issuer of this.jwksIssuers()) void this.refresh(issuer).catch(() => undefined);
    this.timer = setInterval(() => {
      const issuers = this.jwksIssuers();
      // Key sets a request of a since-deleted or changed issuer re-created meanwhile.
      const current = new Set(issuers.map(stateKey));
      for (const key of [...this.states.keys()]) if (!current.has(key)) this.states.delete(key);
      const now = Date.now();
      for (const issuer of issuers) {
        const state = this.state(issuer);
        if (!state.inflight && now >= state.nextAttemptAt) {
          void this.refresh(issuer).catch(() => undefined);
        }
      }
    }, BACKGROUND_TICK_MS);
    this.timer.unref();
  }

  private onIssuersChanged(change: IssuersChange): void {
    const current = new Set(this.jwksIssuers().map(stateKey));
    for (const issuer of change.removed) this.board.forget(issuer.name);
    for (const issuer of [...change.removed, ...change.updated]) {
      for (const key of [...this.states.keys()]) {
        if (key.startsWith(`${issuer.name}\u0000`) && !current.has(key)) this.states.delete(key);
      }
    }
    for (const issuer of [...change.added, ...change.updated]) {
      if (issuer.jwksUrl !== undefined && !this.states.get(stateKey(issuer))?.fetchedAt) {
        void this.refresh(issuer).catch(() => undefined);
      }
    }
  }

  private jwksIssuers(): TrustedIssuerConfig[] {
    return this.issuers.all().filter((i) => i.jwksUrl !== undefined);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** A jose key resolver bound to this issuer's key set. */
  keyResolver(issuer: TrustedIssuerConfig): JWTVerifyGetKey {
    return async (header, token) => {
      const state = await this.usableState(issuer);
      const kid = header.kid;
      if (kid !== undefined && !state.kids.has(kid)) {
        // Unknown kid: maybe the IdP rotated. Refetch, but at most once per cooldown per issuer.
        const cooldownMs = this.config.jwks.cooldownSeconds * 1000;
        if (Date.now() - state.attemptedAt >= cooldownMs) {
          await this.refresh(issuer).catch(() => undefined);
        }
      }
      const current = this.state(issuer);
      if (!current.getKey) throw issuerUnavailable('no_keys');
      // A kid we cannot check because the IdP is failing is not the caller's fault (rule 20): 503.
      if (kid !== undefined && !current.kids.has(kid) && current.lastFailed) {
        throw issuerUnavailable('jwks_unavailable');
      }
      return current.getKey(header, token);
    };
  }

  /** Fetches the issuer's JWKS now (coalescing concurrent calls). Keeps the old set when it fails. */
  refresh(issuer: TrustedIssuerConfig): Promise<void> {
    const state = this.state(issuer);
    if (state.inflight) return state.inflight;
    state.attemptedAt = Date.now();
    const refreshMs = this.config.jwks.refreshSeconds * 1000;
    state.inflight = (async () => {
      if (!issuer.jwksUrl) throw new Error('issuer has no JWKS URL');
      return fetchKeySet(this.http, issuer.jwksUrl, issuer.algorithms);
    })()
      .then((jwks) => {
        state.getKey = createLocalJWKSet(jwks);
        state.kids = new Set(
          jwks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'),
        );
        state.keyCount = jwks.keys.length;
        state.fetchedAt = Date.now();
        state.lastFailed = false;
        state.failures = 0;
        state.lastError = undefined;
        state.nextAttemptAt = state.fetchedAt + refreshMs;
        this.metrics.jwksFetches.inc({ issuer: issuer.name, result: 'ok' });
        this.report(issuer, state);
      })
      .catch((err: unknown) => {
        const failed = err instanceof EndpointError ? err : undefined;
        const problem: EndpointProblem = failed?.problem ?? { message: 'JWKS fetch failed' };
        const now = Date.now();
        state.lastFailed = true;
        state.failures++;
        state.lastError = { ...problem, at: now };
        state.nextAttemptAt =
          now + Math.min(refreshMs, RETRY_FIRST_MS * 2 ** Math.min(state.failures - 1, 16));
        this.metrics.jwksFetches.inc({ issuer: issuer.name, result: failed?.failure ?? 'invalid' });
        // Never the token that may have triggered the fetch; the URL without query or credentials.
        this.logger.warn(
          {
            issuer: issuer.name,
            url: displayUrl(issuer.jwksUrl),
            httpStatus: problem.httpStatus,
            networkError: problem.networkError,
            reason: problem.message,
            keptKeys: state.fetchedAt > 0,
            nextRetryAt: new Date(state.nextAttemptAt).toISOString(),
          },
          `JWKS fetch failed for issuer "${issuer.name}": ${problem.message}; keeping the last good key set if any`,
        );
        this.report(issuer, state);
        throw err;
      })
      .finally(() => {
        state.inflight = undefined;
      });
    return state.inflight;
  }

  private report(issuer: TrustedIssuerConfig, state: KeySetState): void {
    // A fetch for a URL the issuer no longer has (changed meanwhile) must not hide the current state.
    if (!issuer.jwksUrl || this.issuers.findByName(issuer.name)?.jwksUrl !== issuer.jwksUrl) return;
    const maxStaleMs = this.config.jwks.maxStaleSeconds * 1000;
    this.board.report(issuer.name, {
      jwksUrl: issuer.jwksUrl,
      lastAttemptAt: state.attemptedAt,
      ...(state.fetchedAt > 0
        ? { lastSuccessAt: state.fetchedAt, usableUntil: state.fetchedAt + maxStaleMs }
        : {}),
      keyCount: state.fetchedAt > 0 ? state.keyCount : 0,
      lastError: state.lastError,
      nextRetryAt: state.nextAttemptAt,
    });
  }

  private state(issuer: TrustedIssuerConfig): KeySetState {
    const key = stateKey(issuer);
    let s = this.states.get(key);
    if (!s) {
      s = {
        kids: new Set(),
        fetchedAt: 0,
        attemptedAt: 0,
        lastFailed: false,
        keyCount: 0,
        failures: 0,
        nextAttemptAt: 0,
      };
      this.states.set(key, s);
    }
    return s;
  }

  /** The current key set, fetching it first if there is none yet; throws 503 when none can be had. */
  private async usableState(issuer: TrustedIssuerConfig): Promise<KeySetState> {
    const state = this.state(issuer);
    const maxStaleMs = this.config.jwks.maxStaleSeconds * 1000;
    if (state.getKey && Date.now() - state.fetchedAt > maxStaleMs) {
      // The IdP has been unreachable for too long: stop trusting the old keys.
      state.getKey = undefined;
      state.kids = new Set();
      this.logger.error(
        { issuer: issuer.name },
        'JWKS older than the staleness limit; refusing its keys',
      );
    }
    if (!state.getKey) {
      const cooldownMs = this.config.jwks.cooldownSeconds * 1000;
      if (state.inflight) await state.inflight.catch(() => undefined);
      else if (
        state.attemptedAt === 0 ||
        Date.now() - state.attemptedAt >= Math.min(cooldownMs, 5000)
      ) {
        await this.refresh(issuer).catch(() => undefined);
      }
    }
    if (!state.getKey) throw issuerUnavailable('jwks_unavailable');
    return state;
  }
}

/** One key set per issuer and JWKS URL: a new URL never inherits the keys fetched from the old one. */
function stateKey(issuer: TrustedIssuerConfig): string {
  return `${issuer.name}\u0000${issuer.jwksUrl ?? ''}`;
}

/** Scheme, host and path: never credentials, query or fragment (they could carry a secret). */
function displayUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return undefined;
  }
}
