import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ClusterBus, ClusterChannel } from 'src/cache/cluster-bus';

/** How often the pacing timer looks at the clock and the bus (the poll intervals are its multiples). */
const TICK_MS = 100;
/** A failing load or poll is logged at most this often. */
const WARN_EVERY_MS = 10_000;

export interface ReplicatedSnapshotOptions {
  /** Short name for logs, e.g. `trusted issuers`. */
  name: string;
  /** The cluster channel nodes announce changes on. */
  channel: ClusterChannel;
  bus: ClusterBus;
  logger: Logger;
  /**
   * Reads the source of truth (PostgreSQL) and swaps the in-memory table. Never runs twice at once; a
   * failure leaves the last table in place and makes the poll run at its fast pace.
   */
  load: () => Promise<void>;
  /**
   * A message from the bus. `fromThisNode`: published by this node (already applied before it was
   * sent). Answers whether a reload is needed; a service whose messages carry the change itself applies
   * it here and answers false. Default: reload on every other node's message.
   */
  onMessage?: (payload: unknown, fromThisNode: boolean) => boolean;
  /**
   * Catch-up for messages this node missed. `everyMs`: while the bus is connected and loads succeed;
   * `whileBehindMs`: while messages may be missed (bus subscriber down) or the last load failed.
   */
  poll: { everyMs: number; whileBehindMs: number };
  /**
   * A cheap question asked by the poll before a full load: has anything changed? Default: always load.
   */
  changed?: () => Promise<boolean>;
}

/**
 * One in-memory table kept in sync across nodes: the pattern trusted issuers, signing keys and
 * revocations share (SECURITY.md rule 19). The database is the source of truth; a node that changes it
 * reloads before answering and tells the others over the cluster bus; every node also polls as a
 * catch-up, faster while the bus may be losing messages. Loads are coalesced: they never overlap and
 * never finish out of order, and a reload asked for during a load gets one more load that starts after
 * it, so a caller always sees its own write. The service keeps only its domain rules: what `load`
 * reads and applies, and what a message carries.
 */
export class ReplicatedSnapshot {
  private readonly nodeId = randomUUID();
  private loading?: Promise<void>;
  private queued?: Promise<void>;
  private loadedOnce = false;
  private failed = false;
  private lastCheckAt = 0;
  private lastDemandAt = Number.NEGATIVE_INFINITY;
  private lastWarnAt = Number.NEGATIVE_INFINITY;
  private polling = false;
  private subscribed = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly options: ReplicatedSnapshotOptions) {}

  /** At least one load has succeeded (until then the table is whatever the service started with). */
  get loaded(): boolean {
    return this.loadedOnce;
  }

  /** The last load (or poll) failed: the table may be out of date. */
  get lastLoadFailed(): boolean {
    return this.failed;
  }

  /**
   * Subscribes to the bus, starts the catch-up poll, then runs the first load. Rejects when the first
   * load fails; the poll keeps running either way (at the fast pace), so the caller may go on.
   */
  async start(): Promise<void> {
    if (!this.subscribed) {
      this.subscribed = true;
      this.options.bus.subscribe(this.options.channel, (payload) => this.onBusMessage(payload));
    }
    if (!this.timer) {
      this.timer = setInterval(() => void this.poll(), TICK_MS);
      this.timer.unref();
    }
    await this.reload().catch((err: unknown) => {
      this.warn(err);
      throw err;
    });
  }

  /** Stops the poll (messages still arriving are ignored). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.subscribed = false;
  }

  /** Loads now, coalesced with any load in flight (see the class comment). */
  reload(): Promise<void> {
    if (this.loading) {
      this.queued ??= this.loading
        .catch(() => undefined)
        .then(() => {
          this.queued = undefined;
          return this.reload();
        });
      return this.queued;
    }
    const started = Date.now();
    this.loading = this.options
      .load()
      .then(
        () => {
          this.loadedOnce = true;
          this.failed = false;
          this.lastCheckAt = Math.max(this.lastCheckAt, started);
        },
        (err: unknown) => {
          this.failed = true;
          throw err;
        },
      )
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  /**
   * A reload asked for by a request (e.g. a token with an unknown key id: another node may have just
   * changed the table), at most once per `minIntervalMs`; in between, it waits for a load in flight.
   * Rejects when the reload it started fails.
   */
  async reloadOnDemand(minIntervalMs: number): Promise<void> {
    const now = Date.now();
    if (now - this.lastDemandAt >= minIntervalMs) {
      this.lastDemandAt = now;
      return this.reload();
    }
    if (this.loading) await (this.queued ?? this.loading).catch(() => undefined);
  }

  /**
   * This node changed the source of truth: reload here before answering, then tell the other nodes.
   * `payload` is a small JSON object, never a secret.
   */
  async changed(payload: object = {}): Promise<void> {
    await this.reload();
    await this.publish(payload);
  }

  /** Tells every node, this one included, about a change the message itself carries. */
  publish(payload: object): Promise<void> {
    return this.options.bus.publish(this.options.channel, { ...payload, origin: this.nodeId });
  }

  private onBusMessage(payload: unknown): void {
    if (!this.subscribed) return;
    const fromThisNode = (payload as { origin?: unknown } | null)?.origin === this.nodeId;
    const wanted = this.options.onMessage
      ? this.options.onMessage(payload, fromThisNode)
      : !fromThisNode;
    if (wanted) this.reload().catch((err: unknown) => this.warn(err));
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    const { everyMs, whileBehindMs } = this.options.poll;
    const behind = this.failed || !this.options.bus.connected;
    if (Date.now() - this.lastCheckAt < (behind ? whileBehindMs : everyMs)) return;
    this.polling = true;
    this.lastCheckAt = Date.now();
    try {
      if (!this.options.changed || (await this.options.changed())) await this.reload();
      this.failed = false;
    } catch (err) {
      this.failed = true;
      this.warn(err);
    } finally {
      this.polling = false;
    }
  }

  private warn(err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_EVERY_MS) return;
    this.lastWarnAt = now;
    const e = err as { message?: unknown; code?: unknown } | null;
    this.options.logger.warn(
      { snapshot: this.options.name, err: { message: e?.message, code: e?.code } },
      `cannot read ${this.options.name} from the database; keeping the last known state`,
    );
  }
}
