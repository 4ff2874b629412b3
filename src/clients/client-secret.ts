import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from 'src/common/crypto/sha256';

/** `bkc_` + 128 random bits: public, but unguessable so client ids cannot be enumerated. */
export function newClientId(): string {
  return `bkc_${randomBytes(16).toString('base64url')}`;
}

/** `bks_` + 256 random bits, shown once. */
export function newClientSecret(): string {
  return `bks_${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return sha256Hex(secret);
}

/** Constant-time comparison of a presented secret with a stored hash (SECURITY.md rule 11). */
export function secretMatches(presented: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
