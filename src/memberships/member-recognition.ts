import { fhirUserIdentifierClaim } from 'src/memberships/fhir-user';
import type { MembershipEntity } from 'src/memberships/membership.entity';
import { type MemberRecognition, RecognitionMethod } from 'src/memberships/models/membership.model';

/**
 * Every way a token will find this member, by the resolution rules (`MembershipsService.resolve`, and
 * token exchange's email matching): only a token of the issuer the membership is bound to, by its `sub`
 * (externalId) or its `fhirUser` (the profile's reference, or an identifier search for one of its
 * identifiers); and through token exchange, the verified email of an issuer with email matching on (the
 * bound issuer only, or any such issuer for an unbound member). `emailMatchingIssuers`: names of the
 * trusted issuers with email matching on, now.
 */
export function recognitionOf(
  m: MembershipEntity,
  emailMatchingIssuers: readonly string[],
): MemberRecognition[] {
  const ways: MemberRecognition[] = [];
  const profile = m.profile!;
  if (m.issuerName !== null) {
    const issuer = m.issuerName;
    if (m.externalId !== null)
      ways.push({
        method: RecognitionMethod.EXTERNAL_ID,
        issuer,
        claim: 'sub',
        value: m.externalId,
      });
    const fhirUser = (value: string) =>
      ways.push({ method: RecognitionMethod.FHIR_USER, issuer, claim: 'fhirUser', value });
    fhirUser(`${profile.resourceType}/${profile.id}`);
    for (const identifier of profile.identifiers)
      fhirUser(fhirUserIdentifierClaim(profile.resourceType, identifier));
  }
  if (m.email !== null) {
    for (const issuer of emailMatchingIssuers) {
      if (m.issuerName !== null && issuer !== m.issuerName) continue;
      ways.push({
        method: RecognitionMethod.VERIFIED_EMAIL,
        issuer,
        claim: 'email',
        value: m.email,
      });
    }
  }
  return ways;
}
