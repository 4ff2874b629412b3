import { randomBytes } from 'node:crypto';
import { Algorithm, hash, verify } from '@node-rs/argon2';

/** OWASP's argon2id parameters: 19 MiB, 2 iterations, 1 lane. */
const OPTIONS = {
  algorithm: Algorithm.Argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * argon2id through `@node-rs/argon2`, whose async functions run in the libuv worker pool: hashing never
 * blocks the event loop (token validation keeps its latency during a burst of logins).
 */
export class PasswordHasher {
  /** A hash of a random password, verified for unknown users so they take as long as known ones. */
  private dummy?: Promise<string>;

  hash(password: string): Promise<string> {
    return hash(password, OPTIONS);
  }

  /** Whether the password matches; a malformed stored hash is a mismatch, never an exception. */
  async verify(stored: string | null, password: string): Promise<boolean> {
    if (stored === null) {
      await this.verifyDummy(password);
      return false;
    }
    try {
      return await verify(stored, password);
    } catch {
      return false;
    }
  }

  /** The same work as a real verification, for a login that matches no account. */
  async verifyDummy(password: string): Promise<void> {
    this.dummy ??= this.hash(randomBytes(32).toString('base64url'));
    await verify(await this.dummy, password).catch(() => false);
  }
}
