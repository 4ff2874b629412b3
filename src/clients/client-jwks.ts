import { createPublicKey } from 'node:crypto';
import { ClientsErrors } from 'src/clients/clients.errors';
import { ASYMMETRIC_ALGORITHMS } from 'src/config/config.types';

/** One public verification key of a client, reduced to the members we keep. */
export interface ClientPublicJwk {
  kty: 'RSA' | 'EC' | 'OKP';
  kid: string;
  alg?: string;
  use?: 'sig';
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

export interface ClientJwks {
  keys: ClientPublicJwk[];
}

/** The size cap on the `jwks` input (bytes of its UTF-8 text). */
export const MAX_CLIENT_JWKS_BYTES = 16 * 1024;
export const MAX_CLIENT_JWKS_KEYS = 10;
const MIN_RSA_BITS = 2048;
const MAX_KID_LENGTH = 128;
const KID = /^[\x21-\x7E]{1,128}$/;

/**
 * The signature algorithms a client assertion may use: asymmetric only (SECURITY.md rule 2), never
 * HS* (a symmetric "key" would be a secret) and never `none`.
 */
export const CLIENT_ASSERTION_ALGORITHMS = [...ASYMMETRIC_ALGORITHMS, 'Ed25519'] as const;

const ALGS_BY_KTY: Record<ClientPublicJwk['kty'], readonly string[]> = {
  RSA: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  EC: ['ES256', 'ES384', 'ES512'],
  OKP: ['EdDSA', 'Ed25519'],
};
const EC_CURVES = ['P-256', 'P-384', 'P-521'];
const EC_ALG_BY_CURVE: Record<string, string> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
};
/** Members that only a private (or symmetric) key has: a JWKS holding any of them is refused. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Parses and checks a client's JSON Web Key Set (the `jwks` input of createClient / setClientJwks):
 * public keys only (no private member, no symmetric `oct` key), RSA of at least 2048 bits, EC P-256 /
 * P-384 / P-521 or OKP Ed25519, each with a unique `kid`, at most 10 keys, at most 16 KiB. The keys are
 * reduced to their public members (x5c, x5u and the like are dropped: keys are never fetched).
 * Every refusal is BAD_INPUT naming the `jwks` field, never echoing key material.
 */
export function parseClientJwks(text: string): ClientJwks {
  if (Buffer.byteLength(text, 'utf8') > MAX_CLIENT_JWKS_BYTES) {
    throw invalid(`must be at most ${MAX_CLIENT_JWKS_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('must be a JSON Web Key Set (JSON)');
  }
  if (!isObject(value) || !Array.isArray(value.keys)) {
    throw invalid('must be a JSON object with a "keys" array');
  }
  const keys = value.keys as unknown[];
  if (keys.length === 0) throw invalid('must contain at least one key');
  if (keys.length > MAX_CLIENT_JWKS_KEYS) {
    throw invalid(`must contain at most ${MAX_CLIENT_JWKS_KEYS} keys`);
  }
  const kids = new Set<string>();
  const out = keys.map((key, i) => {
    const jwk = checkKey(key, i);
    if (kids.has(jwk.kid)) throw invalid(`key ${i}: kid is used by another key`);
    kids.add(jwk.kid);
    return jwk;
  });
  return { keys: out };
}

function checkKey(key: unknown, i: number): ClientPublicJwk {
  const where = `key ${i}`;
  if (!isObject(key)) throw invalid(`${where}: must be a JSON object`);
  const privateMember = PRIVATE_MEMBERS.find((m) => m in key);
  if (privateMember !== undefined) {
    throw invalid(`${where}: private or symmetric key material ("${privateMember}") is refused`);
  }
  const kty = key.kty;
  if (kty === 'oct') throw invalid(`${where}: symmetric keys (kty "oct") are refused`);
  if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') {
    throw invalid(`${where}: kty must be RSA, EC or OKP`);
  }
  if (typeof key.kid !== 'string' || key.kid.length > MAX_KID_LENGTH || !KID.test(key.kid)) {
    throw invalid(`${where}: kid is required (1-${MAX_KID_LENGTH} printable characters)`);
  }
  if (key.use !== undefined && key.use !== 'sig') throw invalid(`${where}: use must be "sig"`);
  if (key.key_ops !== undefined) {
    if (!Array.isArray(key.key_ops) || !key.key_ops.includes('verify')) {
      throw invalid(`${where}: key_ops must include "verify"`);
    }
  }
  if (
    key.alg !== undefined &&
    (typeof key.alg !== 'string' || !ALGS_BY_KTY[kty].includes(key.alg))
  ) {
    throw invalid(`${where}: alg must be one of ${ALGS_BY_KTY[kty].join(', ')}`);
  }
  const jwk: ClientPublicJwk = { kty, kid: key.kid };
  if (typeof key.alg === 'string') jwk.alg = key.alg;
  if (key.use === 'sig') jwk.use = 'sig';
  if (kty === 'RSA') {
    jwk.n = b64url(key.n, `${where}: n`);
    jwk.e = b64url(key.e, `${where}: e`);
  } else if (kty === 'EC') {
    if (typeof key.crv !== 'string' || !EC_CURVES.includes(key.crv)) {
      throw invalid(`${where}: crv must be P-256, P-384 or P-521`);
    }
    if (jwk.alg !== undefined && jwk.alg !== EC_ALG_BY_CURVE[key.crv]) {
      throw invalid(`${where}: alg does not match crv`);
    }
    jwk.crv = key.crv;
    jwk.x = b64url(key.x, `${where}: x`);
    jwk.y = b64url(key.y, `${where}: y`);
  } else {
    if (key.crv !== 'Ed25519') throw invalid(`${where}: crv must be Ed25519`);
    jwk.crv = key.crv;
    jwk.x = b64url(key.x, `${where}: x`);
  }
  // Let the crypto library confirm the key is well-formed (an EC point on its curve, an RSA modulus).
  let bits: number | undefined;
  try {
    const k = createPublicKey({ key: { ...jwk }, format: 'jwk' });
    bits = k.asymmetricKeyDetails?.modulusLength;
  } catch {
    throw invalid(`${where}: is not a valid ${kty} public key`);
  }
  if (kty === 'RSA' && (bits === undefined || bits < MIN_RSA_BITS)) {
    throw invalid(`${where}: RSA keys must have at least ${MIN_RSA_BITS} bits`);
  }
  return jwk;
}

function b64url(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length > 2048 || !B64URL.test(value)) {
    throw invalid(`${what} must be base64url`);
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(why: string) {
  return ClientsErrors.invalid(`jwks: ${why}`);
}
