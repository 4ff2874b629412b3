import { Inject, Injectable } from '@nestjs/common';
import { sha256Base64url } from 'src/common/crypto/sha256';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { type RateLimit, RateLimitsService } from 'src/rate-limits/rate-limits.service';

export type ThrottleVerdict = { locked: false } | { locked: true; retryAfterSeconds: number };

/**
 * Failed sign-ins counted per account (username or email, case-insensitive, hashed in the key) and per
 * client address (SECURITY rules 22, 27): after too many within the window, that account or address is
 * refused until the window ends. The limits are the service's shared rate limits (src/rate-limits):
 * through Redis when configured (with an in-memory insurance limiter, so login keeps working with Redis
 * stopped), in memory otherwise. A success clears the account's count, never the address's. Used by
 * the login form, set-password links and the console's password change.
 */
@Injectable()
export class LoginThrottle {
  private readonly perAccount: RateLimit;
  private readonly perAddress: RateLimit;

  constructor(limits: RateLimitsService, @Inject(APP_CONFIG) config: AppConfig) {
    const duration = config.auth.loginLockoutSeconds;
    this.perAccount = limits.limit(
      'login-account',
      config.auth.loginMaxFailuresPerAccount,
      duration,
    );
    this.perAddress = limits.limit(
      'login-address',
      config.auth.loginMaxFailuresPerAddress,
      duration,
    );
  }

  /** Whether this login or this address is currently locked out (checked before any password work). */
  async check(login: string, address: string): Promise<ThrottleVerdict> {
    const [a, b] = await Promise.all([
      this.perAccount.peek(accountKey(login)),
      this.perAddress.peek(address),
    ]);
    return verdict(Math.max(a, b));
  }

  /** Counts a failure; returns the lockout it caused, if any. */
  async failed(login: string, address: string): Promise<ThrottleVerdict> {
    const [a, b] = await Promise.all([
      this.perAccount.consume(accountKey(login), true),
      this.perAddress.consume(address, true),
    ]);
    return verdict(Math.max(a, b));
  }

  /** Whether this address is locked (set-password links: no account is known before the link is). */
  async checkAddress(address: string): Promise<ThrottleVerdict> {
    return verdict(await this.perAddress.peek(address));
  }

  /** Counts a failure of the address alone (an unknown or used set-password link). */
  async failedAddress(address: string): Promise<ThrottleVerdict> {
    return verdict(await this.perAddress.consume(address, true));
  }

  async succeeded(login: string): Promise<void> {
    await this.perAccount.reset(accountKey(login));
  }
}

function verdict(wait: number): ThrottleVerdict {
  return wait > 0 ? { locked: true, retryAfterSeconds: wait } : { locked: false };
}

/** Never the login itself in a key: a hash of its case-folded form. */
function accountKey(login: string): string {
  return sha256Base64url(login.trim().toLowerCase());
}
