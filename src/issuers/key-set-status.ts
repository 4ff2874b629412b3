import { Injectable } from '@nestjs/common';
import type { TrustedIssuerConfig } from 'src/config/config.types';
import type { EndpointProblem } from 'src/issuers/issuer-endpoints';

/**
 * - `PENDING`: no fetch has finished yet on this node.
 * - `OK`: the last fetch succeeded.
 * - `STALE`: the last fetch failed; the last good keys are still used (until the staleness limit).
 * - `FAILING`: the last fetch failed and there are no usable keys: the issuer's tokens get 503.
 */
export type KeySetState = 'PENDING' | 'OK' | 'STALE' | 'FAILING';

/** What the key-set fetcher reports after every attempt. Times are epoch ms. */
export interface KeySetReport {
  /** The JWKS URL the report is about (a changed URL starts again at PENDING). */
  jwksUrl: string;
  lastAttemptAt: number;
  lastSuccessAt?: number;
  /** Keys in the set in use (0 when there is none). */
  keyCount: number;
  /** The set in use is refused after this (the staleness limit); undefined when there is none. */
  usableUntil?: number;
  /** The last attempt's failure; undefined when it succeeded. */
  lastError?: EndpointProblem & { at: number };
  /** When the next background fetch is planned. */
  nextRetryAt?: number;
}

export interface KeySetStatus extends Partial<Omit<KeySetReport, 'jwksUrl' | 'keyCount'>> {
  state: KeySetState;
  keyCount: number;
}

/**
 * The state of each trusted issuer's key set on this node, for the admin API and readiness. Written by
 * the key-set fetcher (token validation), read by the issuers resolver and the health check: the state
 * sits here, in the issuers module, so that neither reader depends on token validation.
 */
@Injectable()
export class KeySetStatusBoard {
  private readonly reports = new Map<string, KeySetReport>();

  report(issuerName: string, report: KeySetReport): void {
    this.reports.set(issuerName, report);
  }

  forget(issuerName: string): void {
    this.reports.delete(issuerName);
  }

  /** Null for an issuer without a JWKS URL (validated at its userinfo endpoint instead). */
  of(issuer: Pick<TrustedIssuerConfig, 'name' | 'jwksUrl'>, now = Date.now()): KeySetStatus | null {
    if (!issuer.jwksUrl) return null;
    const r = this.reports.get(issuer.name);
    if (!r || r.jwksUrl !== issuer.jwksUrl) return { state: 'PENDING', keyCount: 0 };
    const { jwksUrl: _url, ...rest } = r;
    const usable = r.keyCount > 0 && (r.usableUntil === undefined || r.usableUntil > now);
    let state: KeySetState = 'OK';
    if (r.lastError) state = usable ? 'STALE' : 'FAILING';
    else if (!usable) state = 'FAILING';
    return { ...rest, keyCount: usable ? r.keyCount : 0, state };
  }

  /** Issuers whose tokens cannot be verified here now (FAILING) or only with old keys (STALE). */
  degraded(issuers: readonly TrustedIssuerConfig[]): { failing: string[]; stale: string[] } {
    const now = Date.now();
    const failing: string[] = [];
    const stale: string[] = [];
    for (const issuer of issuers) {
      const state = this.of(issuer, now)?.state;
      if (state === 'FAILING') failing.push(issuer.name);
      else if (state === 'STALE') stale.push(issuer.name);
    }
    return { failing, stale };
  }
}
