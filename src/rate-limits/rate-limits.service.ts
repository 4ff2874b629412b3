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
import { LOGGER } from 'src/common/logging/logging.constants';
import { MetricsService } from 'src/metrics/metrics.service';

/** 0: allowed; otherwise the whole seconds until the key may try again (the `Retry-After`). */
export type RetryAfterSeconds = number;

/**
 * One named limit: `points` per `durationSeconds` per key. A failure of the limiter's store never
 * refuses a request (it is logged): the brake must not turn a Redis outage into an outage of sign-in.
 */
export class RateLimit {
  constructor(
    readonly name: string,
    private readonly limiter: RateLimiterAbstract,
    private readonly metrics: MetricsService,
    private readonly logger: Logger,
  ) {}

  get points(): number {
    return this.limiter.points;
  }

  /** Whether `key` is over the limit now, without counting anything. */
  async peek(key: string): Promise<RetryAfterSeconds> {
    try {
      const res = await this.limiter.get(key);
      if (!res || res.consumedPoints < this.limiter.points) return 0;
      return this.limited(res.msBeforeNext);
    } catch (err) {
      this.unavailable(err);
      return 0;
    }
  }

  /**
   * Counts one request of `key`; returns the wait when this one went over the limit. With `atLimit`, a
   * request that uses the last point counts as over too (a lockout after N failures).
   */
  async consume(key: string, atLimit = false): Promise<RetryAfterSeconds> {
    try {
      const res = await this.limiter.consume(key);
      return atLimit && res.remainingPoints <= 0 ? this.limited(res.msBeforeNext) : 0;
    } catch (err) {
      if (err instanceof RateLimiterRes) return this.limited(err.msBeforeNext);
      this.unavailable(err);
      return 0;
    }
  }

  async reset(key: string): Promise<void> {
    await this.limiter.delete(key).catch(() => false);
  }

  private limited(msBeforeNext: number): RetryAfterSeconds {
    this.metrics.rateLimited.inc({ limit: this.name });
    return Math.max(1, Math.ceil(msBeforeNext / 1000));
  }

  private unavailable(err: unknown): void {
    this.logger.warn(
      { err: { message: (err as Error).message }, limit: this.name },
      'rate limiter unavailable',
    );
  }
}

/**
 * Makes the service's rate limits (issue 13 §3), all alike: shared through Redis when it is configured,
 * each with an in-memory limiter as insurance so a Redis outage falls back to per-node counting instead
 * of failing; in memory only without Redis. Keys are hashes or addresses, never a credential.
 */
@Injectable()
export class RateLimitsService {
  constructor(
    private readonly store: CacheStore,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  limit(name: string, points: number, durationSeconds: number): RateLimit {
    const keyPrefix = `rl-${name}`;
    const memory = new RateLimiterMemory({ keyPrefix, points, duration: durationSeconds });
    const limiter =
      this.store instanceof RedisCacheStore
        ? new RateLimiterRedis({
            storeClient: this.store.client,
            keyPrefix,
            points,
            duration: durationSeconds,
            rejectIfRedisNotReady: true,
            insuranceLimiter: memory,
          })
        : memory;
    return new RateLimit(name, limiter, this.metrics, this.logger);
  }
}
