import { randomBytes } from 'node:crypto';
import { Algorithm } from '@node-rs/argon2';
import { HashingPool } from 'src/accounts/hashing-pool';

/** OWASP's argon2id parameters: 19 MiB, 2 iterations, 1 lane. */
const OPTIONS = {
  algorithm: Algorithm.Argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * argon2id through `@node-rs/argon2`, on the dedicated low-priority hashing threads of `HashingPool`:
 * hashing never runs on the event loop, and never takes the core from it (token validation keeps its
 * throughput and latency during a burst of logins).
 */
export class PasswordHasher {
  /** A hash of a random password, verified for unknown users so they take as long as known ones. */
  private dummy?: Promise<string>;

  constructor(private readonly pool: HashingPool = new HashingPool()) {}

  /** Ends the hashing threads (application shutdown); a later hash would start new ones. */
  close(): Promise<void> {
    return this.pool.close();
  }

  hash(password: string): Promise<string> {
    return this.pool.hash(password, OPTIONS);
  }

  /** Whether the password matches; a malformed stored hash is a mismatch, never an exception. */
  async verify(stored: string | null, password: string): Promise<boolean> {
    if (stored === null) {
      await this.verifyDummy(password);
      return false;
    }
    try {
      return await this.pool.verify(stored, password);
    } catch (err) {
      // A full queue is "busy, try again" (503), not a wrong password.
      if ((err as { kind?: string }).kind === 'UNAVAILABLE') throw err;
      return false;
    }
  }

  /** The same work as a real verification, for a login that matches no account. */
  async verifyDummy(password: string): Promise<void> {
    this.dummy ??= this.hash(randomBytes(32).toString('base64url'));
    const dummy = await this.dummy.catch((err: unknown) => {
      this.dummy = undefined;
      throw err;
    });
    await this.pool.verify(dummy, password).catch((err: unknown) => {
      if ((err as { kind?: string }).kind === 'UNAVAILABLE') throw err;
      return false;
    });
  }
}
