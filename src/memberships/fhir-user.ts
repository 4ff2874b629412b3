/** The FHIR resource types a membership profile may have (issue 3). */
export const PROFILE_RESOURCE_TYPES = ['Practitioner', 'Patient', 'RelatedPerson'] as const;
export type ProfileResourceType = (typeof PROFILE_RESOURCE_TYPES)[number];

/** A `fhirUser` claim reduced to what it can match: one profile by id, or profiles by identifier. */
export type FhirUserRef =
  | { kind: 'reference'; resourceType: ProfileResourceType; id: string }
  | { kind: 'identifier'; resourceType: ProfileResourceType; system?: string; value: string };

/** FHIR's id grammar: 1-64 of letters, digits, `-` and `.` (dot-segments are refused separately). */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const MAX_CLAIM_LENGTH = 1024;

/**
 * Canonicalizes a `fhirUser` claim (SECURITY.md rule 6). Accepted forms, relative or absolute under the
 * issuer's configured FHIR base only:
 *   `Practitioner/abc123`, `Practitioner?identifier=1234567890`, `Patient?identifier=system|value`,
 *   `<fhirBase>/Practitioner/abc123`, `<fhirBase>/Practitioner?identifier=…`.
 * Everything else is refused (`undefined`): other resource types, `_history`, fragments, dot-segments,
 * encoded slashes, other query parameters, an absolute URL under another base (or with no base
 * configured).
 */
export function canonicalizeFhirUser(claim: unknown, fhirBase?: string): FhirUserRef | undefined {
  if (typeof claim !== 'string' || claim.length === 0 || claim.length > MAX_CLAIM_LENGTH)
    return undefined;
  if (/[#\s\\]/.test(claim) || /%2f|%5c|%2e/i.test(claim)) return undefined;
  let relative: string;
  if (/^[a-z][a-z0-9+.-]*:/i.test(claim)) {
    if (!fhirBase) return undefined;
    const base = fhirBase.replace(/\/+$/, '');
    if (!claim.startsWith(`${base}/`)) return undefined;
    relative = claim.slice(base.length + 1);
  } else {
    relative = claim;
  }
  const q = relative.indexOf('?');
  const path = q === -1 ? relative : relative.slice(0, q);
  const query = q === -1 ? undefined : relative.slice(q + 1);
  const segments = path.split('/');
  const resourceType = segments[0] as ProfileResourceType;
  if (!PROFILE_RESOURCE_TYPES.includes(resourceType)) return undefined;
  if (query === undefined) {
    if (segments.length !== 2) return undefined; // refuses `_history/…` and deeper paths
    const id = segments[1];
    if (!FHIR_ID.test(id) || id === '.' || id === '..') return undefined;
    return { kind: 'reference', resourceType, id };
  }
  if (segments.length !== 1) return undefined;
  return parseIdentifierSearch(resourceType, query);
}

function parseIdentifierSearch(
  resourceType: ProfileResourceType,
  query: string,
): FhirUserRef | undefined {
  const params = query.split('&');
  if (params.length !== 1) return undefined;
  const eq = params[0].indexOf('=');
  if (eq === -1 || params[0].slice(0, eq) !== 'identifier') return undefined;
  let raw: string;
  try {
    raw = decodeURIComponent(params[0].slice(eq + 1));
  } catch {
    return undefined;
  }
  const bar = raw.indexOf('|');
  const system = bar === -1 ? undefined : raw.slice(0, bar);
  const value = bar === -1 ? raw : raw.slice(bar + 1);
  if (!value || value.includes('|') || value.length > 256) return undefined;
  if (system !== undefined && (system.length === 0 || system.length > 512)) return undefined;
  return system === undefined
    ? { kind: 'identifier', resourceType, value }
    : { kind: 'identifier', resourceType, system, value };
}

/**
 * The `fhirUser` identifier search that `canonicalizeFhirUser` reads back as this identifier, e.g.
 * `Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1234567890`: only the characters the parser
 * refuses raw (`%`, `&`, `#`, whitespace) are percent-encoded. Identifiers containing `|` or `\` have
 * no such claim (invites refuse them).
 */
export function fhirUserIdentifierClaim(
  resourceType: ProfileResourceType,
  identifier: { system?: string; value: string },
): string {
  const enc = (s: string) => s.replace(/[%&#\s]/g, (c) => encodeURIComponent(c));
  const search =
    identifier.system === undefined
      ? enc(identifier.value)
      : `${enc(identifier.system)}|${enc(identifier.value)}`;
  return `${resourceType}?identifier=${search}`;
}
