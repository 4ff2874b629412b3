/** The `fhirUser` claim of a token, at the top level or nested in `ext` as some IdPs do. */
export function fhirUserClaim(payload: Record<string, unknown>): unknown {
  if (payload.fhirUser !== undefined) return payload.fhirUser;
  const ext = payload.ext;
  return typeof ext === 'object' && ext !== null
    ? (ext as Record<string, unknown>).fhirUser
    : undefined;
}
