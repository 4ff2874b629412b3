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
class Children<T extends string, C> {
  private readonly byKey = new Map<string, C>();

  constructor(
    private readonly names: readonly T[],
    private readonly make: (labels: LabelValues<T>) => C,
  ) {}

  /** The child for these label values, made once; keyed in the metric's own label order. */
  of(labels: LabelValues<T>): C {
    let key = '';
    for (const n of this.names) key += `${String(labels[n])}\u0000`;
    let child = this.byKey.get(key);
    if (!child) {
      child = this.make(labels);
      this.byKey.set(key, child);
    }
    return child;
  }
}

class LabelledCounter<T extends string> {
  readonly metric: Counter<T>;
  private readonly children: Children<T, { inc(value?: number): void }>;

  constructor(config: CounterConfiguration<T> & { labelNames: readonly T[] }) {
    this.metric = new Counter(config);
    this.children = new Children(config.labelNames, (l) => this.metric.labels(l));
  }

  inc(labels: LabelValues<T>, value?: number): void {
    this.children.of(labels).inc(value);
  }
}

class LabelledHistogram<T extends string> {
  readonly metric: Histogram<T>;
  private readonly children: Children<T, { observe(value: number): void }>;

  constructor(config: HistogramConfiguration<T> & { labelNames: readonly T[] }) {
    this.metric = new Histogram(config);
    this.children = new Children(config.labelNames, (l) => this.metric.labels(l));
  }

  observe(labels: LabelValues<T>, value: number): void {
    this.children.of(labels).observe(value);
  }
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

  readonly oauthTokenRequests = counter({
    name: 'bridgekeeper_oauth_token_requests_total',
    help: 'POST /oauth2/token requests by grant type and outcome (issued, or the OAuth error code)',
    labelNames: ['grant_type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly revocations = counter({
    name: 'bridgekeeper_revocations_total',
    help: 'Revocations stored by kind (token, grant, actor, client)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly logins = counter({
    name: 'bridgekeeper_logins_total',
    help: 'Password sign-ins by result (success, failure, locked)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'bridgekeeper_' });
  }
}
