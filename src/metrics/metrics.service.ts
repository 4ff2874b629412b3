import { Injectable } from '@nestjs/common';
import {
  Counter,
  type CounterConfiguration,
  Histogram,
  type HistogramConfiguration,
  type LabelValues,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';

/**
 * prom-client hashes the label object on every `inc`/`observe`; on the request path that was ~4 % of a
 * cached-token request. These keep the labelled child per label-value combination (closed sets only,
 * see below, so the maps stay small).
 */
class LabelledCounter<T extends string> {
  readonly metric: Counter<T>;
  private readonly children = new Map<string, { inc(value?: number): void }>();
  private readonly names: readonly T[];

  constructor(config: CounterConfiguration<T> & { labelNames: readonly T[] }) {
    this.metric = new Counter(config);
    this.names = config.labelNames;
  }

  inc(labels: LabelValues<T>, value?: number): void {
    const key = keyOf(this.names, labels);
    let child = this.children.get(key);
    if (!child) {
      child = this.metric.labels(labels);
      this.children.set(key, child);
    }
    child.inc(value);
  }
}

class LabelledHistogram<T extends string> {
  readonly metric: Histogram<T>;
  private readonly children = new Map<string, { observe(value: number): void }>();
  private readonly names: readonly T[];

  constructor(config: HistogramConfiguration<T> & { labelNames: readonly T[] }) {
    this.metric = new Histogram(config);
    this.names = config.labelNames;
  }

  observe(labels: LabelValues<T>, value: number): void {
    const key = keyOf(this.names, labels);
    let child = this.children.get(key);
    if (!child) {
      child = this.metric.labels(labels);
      this.children.set(key, child);
    }
    child.observe(value);
  }
}

/** The label values in the metric's own label order: no sorting, no hashing. */
function keyOf<T extends string>(names: readonly T[], labels: LabelValues<T>): string {
  let key = '';
  for (const n of names) key += `${String(labels[n])}\u0000`;
  return key;
}

const counter = <T extends string>(c: CounterConfiguration<T> & { labelNames: readonly T[] }) =>
  new LabelledCounter<T>(c);
const histogram = <T extends string>(c: HistogramConfiguration<T> & { labelNames: readonly T[] }) =>
  new LabelledHistogram<T>(c);

/**
 * Prometheus metrics, one registry per application instance (tests run several apps in one process).
 * Label values are always from closed sets (issuer names from config, fixed reasons): never a token, a
 * claim or a raw `iss` (SECURITY.md rule 14).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests = counter({
    name: 'bridgekeeper_http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = histogram({
    name: 'bridgekeeper_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly tokenValidations = counter({
    name: 'bridgekeeper_token_validations_total',
    help: 'Bearer token validations by trusted issuer, outcome and reason',
    labelNames: ['issuer', 'outcome', 'reason'] as const,
    registers: [this.registry],
  });

  readonly jwksFetches = counter({
    name: 'bridgekeeper_jwks_fetches_total',
    help: 'JWKS fetches by trusted issuer and result',
    labelNames: ['issuer', 'result'] as const,
    registers: [this.registry],
  });

  readonly cacheOperations = counter({
    name: 'bridgekeeper_cache_operations_total',
    help: 'Cache lookups by namespace and result (hit, miss, error)',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });

  readonly actorsProvisioned = counter({
    name: 'bridgekeeper_actors_provisioned_total',
    help: 'Actors created on their first valid token, by trusted issuer',
    labelNames: ['issuer'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'bridgekeeper_' });
  }
}
