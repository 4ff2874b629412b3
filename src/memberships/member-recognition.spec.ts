import { recognitionOf } from 'src/memberships/member-recognition';
import type { MembershipEntity } from 'src/memberships/membership.entity';

const member = (
  m: Partial<MembershipEntity>,
  identifiers: { system?: string; value: string }[] = [],
) =>
  ({
    issuerName: null,
    externalId: null,
    email: null,
    profile: { id: 'p1', resourceType: 'Patient', identifiers },
    ...m,
  }) as unknown as MembershipEntity;

describe('recognitionOf', () => {
  it('lists sub, fhirUser reference and identifier searches of the bound issuer only', () => {
    expect(
      recognitionOf(member({ issuerName: 'idp', externalId: 'e1' }, [{ value: 'mrn 7' }]), ['idp']),
    ).toEqual([
      { method: 'EXTERNAL_ID', issuer: 'idp', claim: 'sub', value: 'e1' },
      { method: 'FHIR_USER', issuer: 'idp', claim: 'fhirUser', value: 'Patient/p1' },
      {
        method: 'FHIR_USER',
        issuer: 'idp',
        claim: 'fhirUser',
        value: 'Patient?identifier=mrn%207',
      },
    ]);
  });

  it('offers a verified email only through issuers with email matching, the bound one alone when bound', () => {
    const bound = member({ issuerName: 'idp', email: 'a@example.com' });
    expect(recognitionOf(bound, ['other']).map((r) => r.method)).toEqual(['FHIR_USER']);
    expect(recognitionOf(bound, ['idp', 'other']).filter((r) => r.claim === 'email')).toEqual([
      { method: 'VERIFIED_EMAIL', issuer: 'idp', claim: 'email', value: 'a@example.com' },
    ]);
    const unbound = member({ email: 'a@example.com' }, [{ value: 'x' }]);
    expect(recognitionOf(unbound, ['idp', 'other']).map((r) => r.issuer)).toEqual(['idp', 'other']);
    expect(recognitionOf(unbound, [])).toEqual([]);
  });
});
