/**
 * A key/value store with per-entry TTL. Two implementations serve the same interface: an in-process
 * LRU (single node) and Redis (shared by every node). Values are plain JSON-compatible data.
 */
export abstract class CacheStore {
  abstract readonly kind: 'memory' | 'redis';
  abstract get(key: string): Promise<unknown>;
  abstract set(key: string, value: unknown, ttlMs: number): Promise<void>;
  abstract del(keys: string[]): Promise<void>;
  /**
   * Stores the entry only when the key holds none, atomically (Redis `SET NX PX`); true when it was
   * stored, false when the key already existed.
   */
  abstract setIfAbsent(key: string, value: unknown, ttlMs: number): Promise<boolean>;
  /** Resolves when the store answers; rejects otherwise (readiness). */
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
}
