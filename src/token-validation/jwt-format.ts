import { TokenErrorCode, invalidToken } from 'src/token-validation/token-validation.errors';

/** Tokens larger than this are refused before any parsing (SECURITY.md rule 3). */
export const MAX_TOKEN_LENGTH = 8192;
const MAX_KID_LENGTH = 256;
const COMPACT_JWS = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}$/;

export interface UnverifiedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/**
 * Structural checks on an untrusted token before any key lookup: compact JWS only (three base64url
 * segments, no JWE, no `alg: none`), bounded size, JSON object header and payload, no nested JWT
 * (`cty: JWT`), no `crit` extensions, and a bounded string `kid`. Header keys `jwk`, `jku`, `x5u`
 * and `x5c` are ignored: keys only ever come from the issuer's configured JWKS.
 */
export function parseCompactJws(token: string): UnverifiedJws {
  if (token.length > MAX_TOKEN_LENGTH)
    throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'too_large');
  if (!COMPACT_JWS.test(token))
    throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'not_compact_jws');
  const [h, p] = token.split('.');
  const header = decodeSegment(h);
  const payload = decodeSegment(p);
  if (typeof header.alg !== 'string' || header.alg === 'none') {
    throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'bad_alg');
  }
  // RFC 7515 §4.1.11: `crit` extensions must be understood, and this service understands none.
  if (header.crit !== undefined) throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'crit');
  if (typeof header.cty === 'string' && header.cty.toUpperCase() === 'JWT') {
    throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'nested_jwt');
  }
  if (
    header.kid !== undefined &&
    (typeof header.kid !== 'string' || header.kid.length > MAX_KID_LENGTH)
  ) {
    throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'bad_kid');
  }
  if (header.enc !== undefined) throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'jwe');
  return { header, payload };
}

function decodeSegment(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'bad_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'not_an_object');
  }
  return value as Record<string, unknown>;
}

/**
 * The token as a compact JWS, or `undefined` when it is not shaped like one at all (maybe an opaque
 * token). A token shaped like a JWS but failing the checks above still throws (401).
 */
export function tryParseCompactJws(token: string): UnverifiedJws | undefined {
  if (token.length > MAX_TOKEN_LENGTH)
    throw invalidToken(TokenErrorCode.TOKEN_MALFORMED, 'too_large');
  if (!COMPACT_JWS.test(token)) return undefined;
  return parseCompactJws(token);
}
