import { LRUCache } from 'lru-cache';

/** Actors whose last activity this node remembers; beyond it the least recently seen are forgotten. */
export const MAX_REMEMBERED_ACTORS = 20_000;
/** "Last seen" writes in flight at once; a request finding them all busy records nothing (a later one will). */
export const MAX_WRITES_IN_FLIGHT = 32;

/**
 * When this node last recorded activity per actor, so a busy actor's `last_seen_at` is written at most
 * once per interval, off the request path. Bounded whatever the number of distinct actors: an LRU of
 * at most `MAX_REMEMBERED_ACTORS` entries that also expire after the interval (an entry older than the
 * interval decides nothing), and at most `MAX_WRITES_IN_FLIGHT` writes at a time. Forgetting an actor
 * costs at most one extra (conditional, idempotent) UPDATE; it never loses a write that matters, since
 * the UPDATE itself only moves `last_seen_at` forward past the interval.
 */
export class ActivityMarks {
  private readonly seen: LRUCache<string, number>;
  private readonly writing = new Set<string>();

  constructor(
    private readonly intervalMs: number,
    private readonly maxRemembered = MAX_REMEMBERED_ACTORS,
    private readonly maxInFlight = MAX_WRITES_IN_FLIGHT,
  ) {
    this.seen = new LRUCache<string, number>({
      max: maxRemembered,
      ttl: Math.max(1, intervalMs),
      ttlAutopurge: false,
      // No clock read per `get`: entries are checked against the interval by `shouldWrite` anyway.
      ttlResolution: 1000,
    });
  }

  /**
   * Whether activity of `actorId` at `now` must be written; if so it is marked as being written and the
   * caller must call `written` or `failed`. `lastSeenAt` is the stored value (ms), read only when this
   * node remembers nothing newer (no date parsing per request).
   */
  shouldWrite(actorId: string, lastSeenAt: () => number, now = Date.now()): boolean {
    let last = this.seen.get(actorId);
    if (last === undefined) {
      last = lastSeenAt();
      // Remember the stored value: the next requests of this actor need no parsing.
      if (now - last < this.intervalMs) this.seen.set(actorId, last);
    }
    if (now - last < this.intervalMs) return false;
    if (this.writing.has(actorId) || this.writing.size >= this.maxInFlight) return false;
    this.writing.add(actorId);
    return true;
  }

  written(actorId: string, at: number): void {
    this.writing.delete(actorId);
    this.seen.set(actorId, at);
  }

  failed(actorId: string): void {
    this.writing.delete(actorId);
  }

  /** For tests and diagnostics. */
  get size(): { remembered: number; inFlight: number } {
    return { remembered: this.seen.size, inFlight: this.writing.size };
  }
}
