import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { CacheStore } from 'src/cache/cache-store';
import { RedisCacheStore } from 'src/cache/redis-cache.store';
import { sha256Base64url } from 'src/common/crypto/sha256';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';

export type ThrottleVerdict = { locked: false } | { locked: true; retryAfterSeconds: number };

/**
 * Failed sign-ins counted per account (username or email, case-insensitive, hashed in the key) and per
 * client address (SECURITY rules 22, 27): after too many within the window, that account or address is
 * refused until the window ends. Shared through Redis when configured (an in-memory limiter insures
 * against a Redis outage, so login keeps working with Redis stopped); in memory otherwise. A success
 * clears the account's count, never the address's.
 */
@Injectable()
export class LoginThrottle {
  private readonly perAccount: RateLimiterAbstract;
  private readonly perAddress: RateLimiterAbstract;

  constructor(
    store: CacheStore,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const duration = config.auth.loginLockoutSeconds;
    const make = (name: string, points: number): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ keyPrefix: `login-${name}`, points, duration });
      if (!(store instanceof RedisCacheStore)) return memory;
      return new RateLimiterRedis({
        storeClient: store.client,
        keyPrefix: `login-${name}`,
        points,
        duration,
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory,
      });
    };
    this.perAccount = make('account', config.auth.loginMaxFailuresPerAccount);
    this.perAddress = make('address', config.auth.loginMaxFailuresPerAddress);
  }

  /** Whether this login or this address is currently locked out (checked before any password work). */
  async check(login: string, address: string): Promise<ThrottleVerdict> {
    const [a, b] = await Promise.all([
      this.peek(this.perAccount, accountKey(login)),
      this.peek(this.perAddress, address),
    ]);
    const wait = Math.max(a, b);
    return wait > 0 ? { locked: true, retryAfterSeconds: wait } : { locked: false };
  }

  /** Counts a failure; returns the lockout it caused, if any. */
  async failed(login: string, address: string): Promise<ThrottleVerdict> {
    const [a, b] = await Promise.all([
      this.consume(this.perAccount, accountKey(login)),
      this.consume(this.perAddress, address),
    ]);
    const wait = Math.max(a, b);
    return wait > 0 ? { locked: true, retryAfterSeconds: wait } : { locked: false };
  }

  async succeeded(login: string): Promise<void> {
    await this.perAccount.delete(accountKey(login)).catch(() => false);
  }

  /** Seconds until the key may try again (0: not locked). */
  private async peek(limiter: RateLimiterAbstract, key: string): Promise<number> {
    try {
      const res = await limiter.get(key);
      if (!res || res.consumedPoints < limiter.points) return 0;
      return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error).message } }, 'login throttle unavailable');
      return 0;
    }
  }

  private async consume(limiter: RateLimiterAbstract, key: string): Promise<number> {
    try {
      const res = await limiter.consume(key);
      return res.remainingPoints <= 0 ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0;
    } catch (err) {
      if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      this.logger.warn({ err: { message: (err as Error).message } }, 'login throttle unavailable');
      return 0;
    }
  }
}

/** Never the login itself in a key: a hash of its case-folded form. */
function accountKey(login: string): string {
  return sha256Base64url(login.trim().toLowerCase());
}
