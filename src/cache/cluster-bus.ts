import { EventEmitter } from 'node:events';
import Redis from 'ioredis';
import type { Logger } from 'pino';

/** The channels nodes tell each other about changes on. Payloads are small JSON objects, never secrets. */
export const ClusterChannels = {
  /** A token, grant, actor's or client's sessions were revoked (issue 4 §3). */
  revocation: 'revocation',
  /** Trusted issuers stored in the database changed (issue 4 §4). */
  issuers: 'issuers',
  /** A signing key was created or retired on some node. */
  signingKeys: 'signing-keys',
} as const;
export type ClusterChannel = (typeof ClusterChannels)[keyof typeof ClusterChannels];

export type ClusterHandler = (payload: unknown) => void;

/**
 * Tells every node (this one included) that something changed. With Redis this is pub/sub on a dedicated
 * subscriber connection; without Redis there is one node, and delivery is in-process. Delivery is best
 * effort: a node that is cut off from Redis misses messages, so every subscriber also has a slower
 * catch-up from PostgreSQL, and asks `connected` to know when to use it more often (SECURITY.md rule 19).
 */
export abstract class ClusterBus {
  abstract readonly kind: 'memory' | 'redis';
  /** False while messages from other nodes may be missed (Redis subscriber down). */
  abstract get connected(): boolean;
  abstract publish(channel: ClusterChannel, payload: object): Promise<void>;
  abstract subscribe(channel: ClusterChannel, handler: ClusterHandler): void;
  abstract close(): Promise<void>;
}

export class MemoryClusterBus extends ClusterBus {
  readonly kind = 'memory' as const;
  private readonly events = new EventEmitter().setMaxListeners(100);

  get connected(): boolean {
    return true;
  }

  async publish(channel: ClusterChannel, payload: object): Promise<void> {
    this.events.emit(channel, JSON.parse(JSON.stringify(payload)) as unknown);
  }

  subscribe(channel: ClusterChannel, handler: ClusterHandler): void {
    this.events.on(channel, handler);
  }

  async close(): Promise<void> {
    this.events.removeAllListeners();
  }
}

export interface RedisBusOptions {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
}

export class RedisClusterBus extends ClusterBus {
  readonly kind = 'redis' as const;
  private readonly handlers = new Map<string, ClusterHandler[]>();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private ready = false;

  constructor(
    private readonly options: RedisBusOptions,
    private readonly logger: Logger,
  ) {
    super();
    const common = {
      connectTimeout: Math.max(1000, options.commandTimeoutMs),
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    };
    this.publisher = new Redis(options.url, {
      ...common,
      commandTimeout: options.commandTimeoutMs,
      enableOfflineQueue: false,
    });
    // The subscriber re-subscribes by itself after a reconnect (ioredis `autoResubscribe`).
    this.subscriber = new Redis(options.url, { ...common, enableOfflineQueue: true });
    let lastLogged = 0;
    const onError = (err: Error) => {
      const now = Date.now();
      if (now - lastLogged > 5000) {
        lastLogged = now;
        this.logger.warn(
          { err: { message: err.message } },
          'redis bus error; nodes catch up from the database',
        );
      }
    };
    this.publisher.on('error', onError);
    this.subscriber.on('error', onError);
    this.subscriber.on('ready', () => (this.ready = true));
    for (const ev of ['close', 'end', 'reconnecting'] as const) {
      this.subscriber.on(ev, () => (this.ready = false));
    }
    this.subscriber.on('message', (channel: string, message: string) => {
      const name = channel.slice(this.options.keyPrefix.length);
      let payload: unknown;
      try {
        payload = JSON.parse(message);
      } catch {
        return;
      }
      for (const h of this.handlers.get(name) ?? []) deliver(h, payload, this.logger);
    });
  }

  get connected(): boolean {
    return this.ready;
  }

  /** Connects once at start; Redis down at boot is not fatal (subscribers poll the database meanwhile). */
  async connect(): Promise<void> {
    await Promise.all([
      this.publisher.connect().catch(() => undefined),
      this.subscriber.connect().catch(() => undefined),
    ]);
  }

  async publish(channel: ClusterChannel, payload: object): Promise<void> {
    // This node learns at once, whatever Redis does; other nodes through Redis (or their catch-up).
    for (const h of this.handlers.get(channel) ?? []) deliver(h, payload, this.logger);
    try {
      await this.publisher.publish(this.options.keyPrefix + channel, JSON.stringify(payload));
    } catch {
      // Logged by the error handler; the other nodes' database catch-up covers it.
    }
  }

  subscribe(channel: ClusterChannel, handler: ClusterHandler): void {
    const list = this.handlers.get(channel) ?? [];
    if (list.length === 0) {
      this.subscriber.subscribe(this.options.keyPrefix + channel).catch(() => undefined);
    }
    list.push(handler);
    this.handlers.set(channel, list);
  }

  async close(): Promise<void> {
    this.handlers.clear();
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}

function deliver(handler: ClusterHandler, payload: unknown, logger: Logger): void {
  try {
    handler(payload);
  } catch (err) {
    logger.error({ err }, 'cluster message handler failed');
  }
}
