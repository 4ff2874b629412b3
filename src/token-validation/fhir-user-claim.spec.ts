import { fhirUserClaim } from 'src/token-validation/fhir-user-claim';

describe('fhirUserClaim', () => {
  it('reads fhirUser at the top level first, then in ext', () => {
    expect(fhirUserClaim({ fhirUser: 'Patient/1', ext: { fhirUser: 'Patient/2' } })).toBe(
      'Patient/1',
    );
    expect(fhirUserClaim({ ext: { fhirUser: 'Patient/2' } })).toBe('Patient/2');
    expect(fhirUserClaim({ ext: 'x' })).toBeUndefined();
    expect(fhirUserClaim({})).toBeUndefined();
  });
});
