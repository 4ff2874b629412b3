import { canonicalizeFhirUser, fhirUserIdentifierClaim } from 'src/memberships/fhir-user';

const BASE = 'https://fhir.example.com/r4';

describe('canonicalizeFhirUser (SECURITY rule 6)', () => {
  it.each([
    ['Practitioner/abc123', { kind: 'reference', resourceType: 'Practitioner', id: 'abc123' }],
    ['Patient/p-1.2', { kind: 'reference', resourceType: 'Patient', id: 'p-1.2' }],
    [`${BASE}/RelatedPerson/r9`, { kind: 'reference', resourceType: 'RelatedPerson', id: 'r9' }],
    [
      'Practitioner?identifier=1234567890',
      { kind: 'identifier', resourceType: 'Practitioner', value: '1234567890' },
    ],
    [
      'Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1234567890',
      {
        kind: 'identifier',
        resourceType: 'Practitioner',
        system: 'http://hl7.org/fhir/sid/us-npi',
        value: '1234567890',
      },
    ],
    [
      `${BASE}/Patient?identifier=urn%3Aoid%3A1.2.3%7C42`,
      { kind: 'identifier', resourceType: 'Patient', system: 'urn:oid:1.2.3', value: '42' },
    ],
  ])('accepts %s', (claim, expected) => {
    expect(canonicalizeFhirUser(claim, BASE)).toEqual(expected);
  });

  it('accepts the base with a trailing slash in configuration', () => {
    expect(canonicalizeFhirUser(`${BASE}/Practitioner/a`, `${BASE}/`)).toMatchObject({ id: 'a' });
  });

  it.each([
    ['another resource type', 'Organization/abc'],
    ['a lower-case type', 'practitioner/abc'],
    ['_history', 'Practitioner/abc/_history/2'],
    ['a fragment', 'Practitioner/abc#x'],
    ['a dot-segment', 'Practitioner/..'],
    ['a dot-segment in the path', 'Practitioner/../Patient/abc'],
    ['an encoded slash', 'Practitioner/abc%2Fdef'],
    ['an encoded dot', 'Practitioner/%2e%2e'],
    ['a backslash', 'Practitioner\\abc'],
    ['a bad id', 'Practitioner/abc$'],
    ['an id over 64 characters', `Practitioner/${'a'.repeat(65)}`],
    ['an empty id', 'Practitioner/'],
    ['another base', 'https://evil.example.com/r4/Practitioner/abc'],
    ['a base prefix trick', 'https://fhir.example.com/r4evil/Practitioner/abc'],
    ['another search parameter', 'Practitioner?name=smith'],
    ['two parameters', 'Practitioner?identifier=1&identifier=2'],
    ['an empty identifier', 'Practitioner?identifier='],
    ['an empty system', 'Practitioner?identifier=|42'],
    ['two bars', 'Practitioner?identifier=a|b|c'],
    ['a search with an id', 'Practitioner/abc?identifier=1'],
    ['whitespace', ' Practitioner/abc'],
    ['not a string', 42],
    ['an empty string', ''],
  ])('refuses %s', (_name, claim) => {
    expect(canonicalizeFhirUser(claim, BASE)).toBeUndefined();
  });

  it('refuses absolute URLs when the issuer has no FHIR base', () => {
    expect(canonicalizeFhirUser(`${BASE}/Practitioner/abc`)).toBeUndefined();
    expect(canonicalizeFhirUser('Practitioner/abc')).toEqual({
      kind: 'reference',
      resourceType: 'Practitioner',
      id: 'abc',
    });
  });
});

describe('fhirUserIdentifierClaim', () => {
  it.each([
    [{ value: '1234567890' }, 'Practitioner?identifier=1234567890'],
    [
      { system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567890' },
      'Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1234567890',
    ],
    [{ system: 'urn:x', value: 'a b&c#d%e' }, 'Practitioner?identifier=urn:x|a%20b%26c%23d%25e'],
  ])('writes %j as a claim that reads back as the same identifier', (identifier, claim) => {
    expect(fhirUserIdentifierClaim('Practitioner', identifier)).toBe(claim);
    expect(canonicalizeFhirUser(claim)).toEqual({
      kind: 'identifier',
      resourceType: 'Practitioner',
      ...identifier,
    });
  });
});
