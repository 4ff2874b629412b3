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
  /** One Map level per label, in the metric's label order; the last level holds the children. */
  private readonly root = new Map<unknown, unknown>();

  constructor(
    private readonly names: readonly T[],
    private readonly make: (labels: LabelValues<T>) => C,
  ) {}

  /** The child for these label values, made once (no key string built per call). */
  of(labels: LabelValues<T>): C {
    const last = this.names.length - 1;
    let level = this.root;
    for (let i = 0; i < last; i++) {
      const v = labels[this.names[i]];
      let next = level.get(v) as Map<unknown, unknown> | undefined;
      if (!next) level.set(v, (next = new Map()));
      level = next;
    }
    const v = labels[this.names[last]];
    let child = level.get(v) as C | undefined;
    if (child === undefined) {
      child = this.make(labels);
      level.set(v, child);
    }
    return child;
  }
}

/**
 * One labelled series of a counter. prom-client's `labels(...).inc()` still hashes the label object on
 * every call, so increments are added here, a plain number, and moved into prom-client when the
 * registry is read (`/metrics`): what a scrape sees is exact, and a request costs one addition.
 */
class CounterCell<T extends string> {
  pending = 0;
  /** Set until the series exists in prom-client (so an `inc(0)` still creates it, as before). */
  fresh = true;

  constructor(readonly labels: LabelValues<T>) {}

  inc(value = 1): void {
    this.pending += value;
  }
}

class LabelledCounter<T extends string> {
  readonly metric: Counter<T>;
  private readonly children: Children<T, CounterCell<T>>;

  constructor(config: CounterConfiguration<T> & { labelNames: readonly T[] }) {
    const cells: CounterCell<T>[] = [];
    this.metric = new Counter<T>({
      ...config,
      collect(this: Counter<T>) {
        for (const cell of cells) {
          if (cell.pending === 0 && !cell.fresh) continue;
          const value = cell.pending;
          cell.pending = 0;
          cell.fresh = false;
          this.inc(cell.labels, value);
        }
      },
    });
    this.children = new Children(config.labelNames, (labels) => {
      const cell = new CounterCell<T>({ ...labels });
      cells.push(cell);
      return cell;
    });
  }

  inc(labels: LabelValues<T>, value?: number): void {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new TypeError(`counter increment must be a finite number >= 0, not ${value}`);
    }
    this.children.of(labels).inc(value);
  }

  /** The cell of these label values (for a caller that keeps it, e.g. per route and status). */
  cell(labels: LabelValues<T>): { inc(value?: number): void } {
    return this.children.of(labels);
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

/** The pre-bound children of one (route, method, status): what one finished request updates. */
interface HttpChildren {
  requests: { inc(value?: number): void };
  duration: { observe(value: number): void };
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

  /** route → method → status → children, made on first use (routes and methods are closed sets). */
  private readonly httpChildren = new Map<string, Map<string, Map<number, HttpChildren>>>();

  /**
   * One finished HTTP request: counted by method, route and status, timed by route. The children are
   * bound once per combination, so a request costs three Map lookups and no label hashing or string
   * building. `route` is the route pattern (never the URL: no ids, no query string) or `unmatched`.
   */
  recordHttp(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.httpChildren.get(route);
    if (!byMethod) this.httpChildren.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let children = byStatus.get(status);
    if (!children) {
      children = {
        requests: this.httpRequests.cell({ method, route, status: String(status) }),
        duration: this.httpDuration.metric.labels({ route }),
      };
      byStatus.set(status, children);
    }
    children.requests.inc();
    children.duration.observe(seconds);
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'bridgekeeper_' });
  }
}
