import { randomBytes } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { SigningKeyAlgorithm } from 'src/signing-keys/signing-key.entity';

/** A freshly generated key pair, ready to be stored (private half still in the clear). */
export interface GeneratedSigningKey {
  kid: string;
  alg: SigningKeyAlgorithm;
  publicJwk: JWK;
  privateJwk: JWK;
}

/** A random key id: 16 random bytes, base64url. Not derived from the key (nothing to learn from it). */
export function newKid(): string {
  return randomBytes(16).toString('base64url');
}

/** A kid as we mint it, or close to it: a bounded lookup hint, never anything else (SECURITY.md rule 3). */
export const KID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The associated data a stored private key is encrypted under: bound to its table and kid. */
export function privateKeyAad(kid: string): string {
  return `signing_keys:${kid}`;
}

export async function generateSigningKey(alg: SigningKeyAlgorithm): Promise<GeneratedSigningKey> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const kid = newKid();
  return {
    kid,
    alg,
    publicJwk: publicJwk(await exportJWK(pair.publicKey), kid, alg),
    privateJwk: await exportJWK(pair.privateKey),
  };
}

/** Only the public members, whatever the input holds: kty, crv/x/y or n/e, kid, alg, use. */
export function publicJwk(jwk: JWK, kid: string, alg: SigningKeyAlgorithm): JWK {
  if (alg === 'ES256') {
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y)
      throw new Error('an ES256 key must be an EC P-256 key');
    return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid, alg, use: 'sig' };
  }
  if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) throw new Error('an RS256 key must be an RSA key');
  return { kty: 'RSA', n: jwk.n, e: jwk.e, kid, alg, use: 'sig' };
}

/**
 * The private key (non-extractable, imported by jose), after checking that it is the private half of the published key (a
 * row whose columns disagree is refused rather than signing tokens nobody can verify).
 */
export async function importPrivateKey(
  privateJwk: JWK,
  published: JWK,
  kid: string,
  alg: SigningKeyAlgorithm,
): Promise<CryptoKey> {
  const derived = publicJwk(privateJwk, kid, alg);
  const same =
    alg === 'ES256'
      ? derived.x === published.x && derived.y === published.y
      : derived.n === published.n && derived.e === published.e;
  if (!same || !privateJwk.d)
    throw new Error('the stored private key does not match its public key');
  return (await importJWK({ ...privateJwk, alg }, alg, { extractable: false })) as CryptoKey;
}
