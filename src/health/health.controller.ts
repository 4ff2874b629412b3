import { Controller, Get, Header, Res, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorFunction,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { CacheService } from 'src/cache/cache.service';
import { Public } from 'src/common/decorators/public.decorator';
import { ShutdownState } from 'src/common/lifecycle/shutdown-state';
import { IssuersService } from 'src/issuers/issuers.service';
import { KeySetStatusBoard } from 'src/issuers/key-set-status';

/** Trusted issuers on readiness: informative only, never a reason to take the node out. */
type IssuersHealth = { status: 'up' } | { status: 'degraded'; failing: string[]; stale: string[] };

/**
 * Liveness (the process answers) and readiness (PostgreSQL, and Redis when configured; 503 at once
 * once the node is shutting down): 200 or 503.
 * Readiness also lists trusted issuers whose key set cannot be fetched (`issuers.status: degraded`):
 * their tokens get 503, but other issuers' tokens work, so the node stays in.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly cache: CacheService,
    private readonly issuers: IssuersService,
    private readonly keySets: KeySetStatusBoard,
    private readonly shutdown: ShutdownState,
  ) {}

  @Public()
  @Get('live')
  @Header('Cache-Control', 'no-store')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Public()
  @Get('ready')
  @HealthCheck()
  @Header('Cache-Control', 'no-store')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    if (this.shutdown.draining) {
      // SIGTERM: out of the balancer at once, whatever the dependencies say.
      void reply.status(503).header('retry-after', '5');
      const error = { shutdown: { status: 'down' as const, message: 'shutting down' } };
      return { status: 'error', info: {}, error, details: error };
    }
    const checks: HealthIndicatorFunction[] = [
      () => this.db.pingCheck('database', { timeout: 1500 }),
    ];
    if (this.cache.kind === 'redis') {
      checks.push(async () => {
        const redis = this.indicators.check('redis');
        try {
          await this.cache.ping();
          return redis.up();
        } catch {
          return redis.down({ message: 'Redis is not answering' });
        }
      });
    }
    let result: HealthCheckResult;
    try {
      result = await this.health.check(checks);
    } catch (err) {
      // Not ready is an answer, not an error: 503 with the per-dependency details for the probe.
      if (!(err instanceof ServiceUnavailableException)) throw err;
      void reply.status(503).header('retry-after', '5');
      result = err.getResponse() as HealthCheckResult;
    }
    const issuers = this.issuersHealth();
    return {
      ...result,
      info: { ...result.info, issuers },
      details: { ...result.details, issuers },
    } as HealthCheckResult;
  }

  private issuersHealth(): IssuersHealth {
    const { failing, stale } = this.keySets.degraded(this.issuers.all());
    if (failing.length === 0 && stale.length === 0) return { status: 'up' };
    return { status: 'degraded', failing, stale };
  }
}
