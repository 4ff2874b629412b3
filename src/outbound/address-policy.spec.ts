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
