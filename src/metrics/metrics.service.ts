import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics, one registry per application instance (tests run several apps in one process).
 * Label values are always from closed sets (issuer names from config, fixed reasons): never a token, a
 * claim or a raw `iss` (SECURITY.md rule 14).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'bridgekeeper_http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'bridgekeeper_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly tokenValidations = new Counter({
    name: 'bridgekeeper_token_validations_total',
    help: 'Bearer token validations by trusted issuer, outcome and reason',
    labelNames: ['issuer', 'outcome', 'reason'] as const,
    registers: [this.registry],
  });

  readonly jwksFetches = new Counter({
    name: 'bridgekeeper_jwks_fetches_total',
    help: 'JWKS fetches by trusted issuer and result',
    labelNames: ['issuer', 'result'] as const,
    registers: [this.registry],
  });

  readonly cacheOperations = new Counter({
    name: 'bridgekeeper_cache_operations_total',
    help: 'Cache lookups by namespace and result (hit, miss, error)',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });

  readonly actorsProvisioned = new Counter({
    name: 'bridgekeeper_actors_provisioned_total',
    help: 'Actors created on their first valid token, by trusted issuer',
    labelNames: ['issuer'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'bridgekeeper_' });
  }
}
