import { sha256Base64url } from 'src/common/crypto/sha256';

/**
 * Every cache key is built here. Keys never contain a token or secret: tokens appear only as their
 * SHA-256 (SECURITY.md rule 14). The first segment is the namespace used as the metrics label.
 */
export const CacheKeys = {
  /** A verified external token, by the SHA-256 (hex) of the token. */
  verifiedToken: (tokenSha256Hex: string) => `tok:${tokenSha256Hex}`,
  /** The actor snapshot for an (issuer name, subject) identity. */
  actorByIdentity: (issuerName: string, subject: string) =>
    `actor:${issuerName}:${sha256Base64url(subject)}`,
  /** The actor snapshot by actor id (Bridgekeeper's own tokens carry it as `sub`). */
  actorById: (actorId: string) => `actorid:${actorId}`,
  /** A registered OAuth client by its public `client_id`. */
  client: (clientId: string) => `client:${sha256Base64url(clientId)}`,
  /**
   * A used client-assertion `jti` (RFC 7523 replay protection): the SHA-256 of client id and jti, never
   * the assertion itself. Length-prefixed so that no two (client, jti) pairs share a key.
   */
  clientAssertionJti: (clientId: string, jti: string) =>
    `jti:${sha256Base64url(`${clientId.length}:${clientId}:${jti}`)}`,
  /** The membership generation: every membership change sets a new one, voiding every resolution below. */
  membershipGeneration: () => 'mship:gen',
  /**
   * Which membership a token of this issuer resolves to, in one generation: the subject, `fhirUser` and
   * project header only as a SHA-256 (NUL-separated, so no two inputs share a key).
   */
  membershipResolution: (
    issuerName: string,
    subject: string,
    fhirUser: string | undefined,
    projectId: string | undefined,
    generation: string,
  ) =>
    `mship:${issuerName}:${sha256Base64url([subject, fhirUser ?? '', projectId ?? '', generation].join('\u0000'))}`,
  /** A membership by id (named by Bridgekeeper's own tokens), in one generation. */
  membershipById: (membershipId: string, generation: string) =>
    `mship:id:${sha256Base64url([membershipId, generation].join('\u0000'))}`,
  /** A browser session, by the SHA-256 (base64url) of its cookie secret, never the secret itself. */
  browserSession: (secretSha256: string) => `bsess:${secretSha256}`,
  /** Wrong user codes a person entered on the /device page lately (RFC 8628 §5.1 brute force). */
  deviceCodeFailures: (actorId: string) => `devfail:${actorId}`,
  /** Dynamic client registrations (RFC 7591) from one client address this hour, by its hash. */
  registrations: (address: string) => `dcr:${sha256Base64url(address)}`,
  /** A Client ID Metadata Document fetched recently (by a hash of its URL, the client id). */
  clientMetadata: (clientId: string) => `cimd:${sha256Base64url(clientId)}`,
};

export function namespaceOf(key: string): string {
  const i = key.indexOf(':');
  return i < 0 ? key : key.slice(0, i);
}
