import { createHash } from 'node:crypto';

/** SHA-256 of a UTF-8 string, hex: how tokens and secrets are fingerprinted and stored. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** SHA-256 of a UTF-8 string, base64url: compact cache-key material. */
export function sha256Base64url(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}
