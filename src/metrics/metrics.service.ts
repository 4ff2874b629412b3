import { Injectable } from '@nestjs/common';
import {
  Counter,
  type CounterConfiguration,
  type LabelValues,
  type Metric,
  type MetricObjectWithValues,
  type MetricType,
  type MetricValueWithName,
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

/** One labelled series of a histogram: counts per bucket (not cumulative; the last is +Inf), sum. */
class HistogramCell<T extends string> {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: LabelValues<T>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A histogram kept as plain numbers per series (prom-client's `observe` hashes the label object on
 * every call), exposed to the registry as a metric of its own: the same exposition as prom-client's
 * Histogram (`_bucket` with cumulative `le` counts and `+Inf`, `_sum`, `_count`).
 */
class LabelledHistogram<T extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly bounds: readonly number[];
  private readonly cells: HistogramCell<T>[] = [];
  private readonly children: Children<T, HistogramCell<T>>;

  constructor(config: {
    name: string;
    help: string;
    labelNames: readonly T[];
    buckets: number[];
    registers: Registry[];
  }) {
    this.name = config.name;
    this.help = config.help;
    this.bounds = [...config.buckets].sort((a, b) => a - b);
    this.children = new Children(config.labelNames, (labels) => {
      const cell = new HistogramCell<T>({ ...labels }, this.bounds);
      this.cells.push(cell);
      return cell;
    });
    for (const r of config.registers) r.registerMetric(this as unknown as Metric);
  }

  observe(labels: LabelValues<T>, value: number): void {
    if (!Number.isFinite(value))
      throw new TypeError(`histogram value must be finite, not ${value}`);
    this.children.of(labels).observe(value);
  }

  /** The series of these label values (for a caller that keeps it, e.g. per route). */
  cell(labels: LabelValues<T>): { observe(value: number): void } {
    return this.children.of(labels);
  }

  /** What the registry reads on a scrape. */
  get(): MetricObjectWithValues<MetricValueWithName<string>> {
    const values: MetricValueWithName<string>[] = [];
    for (const cell of this.cells) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += cell.counts[i];
        values.push({
          labels: { le, ...cell.labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      values.push({
        labels: { le: '+Inf', ...cell.labels },
        value: cell.count,
        metricName: `${this.name}_bucket`,
      });
      values.push({ labels: cell.labels, value: cell.sum, metricName: `${this.name}_sum` });
      values.push({ labels: cell.labels, value: cell.count, metricName: `${this.name}_count` });
    }
    return {
      name: this.name,
      help: this.help,
      type: 'histogram' as unknown as MetricType.Histogram, // a type-only enum in prom-client's typings
      aggregator: 'sum',
      values,
      collect: () => undefined,
    };
  }

  reset(): void {
    for (const cell of this.cells) {
      cell.counts.fill(0);
      cell.sum = 0;
      cell.count = 0;
    }
  }
}

/** The pre-bound children of one (route, method, status): what one finished request updates. */
interface HttpChildren {
  requests: { inc(value?: number): void };
  duration: { observe(value: number): void };
}

const counter = <T extends string>(c: CounterConfiguration<T> & { labelNames: readonly T[] }) =>
  new LabelledCounter<T>(c);
const histogram = <T extends string>(c: ConstructorParameters<typeof LabelledHistogram<T>>[0]) =>
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
    help: 'Sign-ins (password and SSO) by result (success, failure, locked)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly rateLimited = counter({
    name: 'bridgekeeper_rate_limited_total',
    help: 'Requests refused with 429 by a rate limit (token, introspection, revocation, login...), by limit',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  readonly auditEvents = counter({
    name: 'bridgekeeper_audit_events_total',
    help: 'Audit events recorded, by outcome (SUCCESS, FAILURE); dropped: security events lost to a database outage',
    labelNames: ['outcome'] as const,
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
        duration: this.httpDuration.cell({ route }),
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
