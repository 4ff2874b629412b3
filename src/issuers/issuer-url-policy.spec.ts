import { issuerUrlProblems } from 'src/issuers/issuer-url-policy';

// SSRF checks on admin-entered issuer URLs (SECURITY.md rule 8), on top of the shared issuer rules.
const refused = (url: string, allowLinkLocal = false) =>
  issuerUrlProblems({ jwksUrl: url }, { allowLinkLocal }).map((p) => p.field);

describe('issuerUrlProblems', () => {
  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://2852039166/',
    'http://[fe80::1]/',
    'http://[FE80:0::1]/',
    'http://[::ffff:169.254.169.254]/',
    'http://[fd00:ec2::254]/',
    'http://0.0.0.0/',
    'http://[::]/',
    'http://metadata.google.internal/',
    'http://metadata.google.internal./',
    'http://instance-data/',
  ])('refuses %s', (url) => {
    expect(refused(url)).toEqual(['jwksUrl']);
  });

  it('refuses credentials in the URL without repeating them', () => {
    const problems = issuerUrlProblems(
      { userinfoUrl: 'https://bob:s3cr3t@idp.example.com/ui' },
      { allowLinkLocal: false },
    );
    expect(problems).toEqual([{ field: 'userinfoUrl', message: 'must not contain credentials' }]);
  });

  it.each([
    'https://login.example.com/certs',
    'http://127.0.0.1:8080/certs',
    'http://10.0.0.5/certs',
    'http://[::1]/certs',
  ])('accepts %s (loopback and private networks are normal IdP homes)', (url) => {
    expect(refused(url)).toEqual([]);
  });

  it('lets the operator opt in to link-local targets, never to credentials', () => {
    expect(refused('http://169.254.169.254/', true)).toEqual([]);
    expect(refused('http://u:p@169.254.169.254/', true)).toEqual(['jwksUrl']);
  });
});
