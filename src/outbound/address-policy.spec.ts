import { isForbiddenAddress, isForbiddenHostname } from 'src/outbound/address-policy';

describe('outbound address policy (SECURITY rule 8)', () => {
  it.each([
    '169.254.169.254',
    '169.254.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '::',
    'fe80::1',
    'febf::1',
    'fd00:ec2::254',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    'not-an-ip',
  ])('refuses %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each([
    '127.0.0.1',
    '10.0.0.5',
    '192.168.1.10',
    '172.16.0.1',
    '8.8.8.8',
    '::1',
    '2001:db8::1',
    '::ffff:7f00:1',
  ])('allows %s (loopback and private networks host real IdPs)', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });

  it('refuses metadata host names whatever their case or trailing dot', () => {
    expect(isForbiddenHostname('metadata.google.internal')).toBe(true);
    expect(isForbiddenHostname('Metadata.Google.Internal.')).toBe(true);
    expect(isForbiddenHostname('login.example.com')).toBe(false);
  });
});

describe('outbound address policy: other spellings of the same addresses', () => {
  it.each([
    ['fully expanded IPv4-mapped metadata', '0:0:0:0:0:ffff:a9fe:a9fe'],
    ['expanded IPv4-mapped with a dotted tail', '0:0:0:0:0:ffff:169.254.169.254'],
    ['upper-case IPv4-mapped', '::FFFF:A9FE:A9FE'],
    ['IPv4-mapped link-local', '::ffff:169.254.0.1'],
    ['IPv4-mapped "this network"', '::ffff:0.0.0.0'],
    ['IPv4-mapped broadcast', '::ffff:255.255.255.255'],
    ['upper-case link-local', 'FE80::1'],
    ['link-local with zeros written out', 'fe80:0000:0000:0000:0000:0000:0000:0001'],
    ['link-local with a zone id', 'fe80::1%eth0'],
    ['the top of fe80::/10', 'febf:ffff::1'],
    ['the unspecified address written out', '0:0:0:0:0:0:0:0'],
    ['AWS IMDS over IPv6 written out', 'fd00:ec2:0:0:0:0:0:254'],
    ['the top of 169.254.0.0/16', '169.254.255.255'],
    ['an octal-looking IPv4 (not an IP to node)', '0251.0376.0251.0376'],
    ['a decimal IPv4 (not an IP to node)', '2852039166'],
    ['an empty string', ''],
  ])('refuses %s: %s', (_what, address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each([
    ['just below 169.254.0.0/16', '169.253.255.255'],
    ['just above 169.254.0.0/16', '169.255.0.1'],
    ['just below fe80::/10', 'fe7f::1'],
    ['just above fe80::/10', 'fec0::1'],
    ['unique local (private) IPv6', 'fd12:3456::1'],
    ['loopback written out', '0:0:0:0:0:0:0:1'],
    ['IPv4-mapped private address', '::ffff:10.1.2.3'],
    ['a public address', '1.1.1.1'],
  ])('allows %s: %s', (_what, address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });

  it('refuses every metadata host name and nothing that merely contains one', () => {
    for (const h of ['metadata', 'instance-data', 'instance-data.ec2.internal', 'METADATA.'])
      expect(isForbiddenHostname(h)).toBe(true);
    for (const h of ['metadata.example.com', 'my-metadata', 'google.internal', ''])
      expect(isForbiddenHostname(h)).toBe(false);
  });
});
