import { isIP } from 'node:net';

/**
 * Addresses an admin-entered URL must never reach (SSRF, SECURITY.md rule 8): link-local ranges, which
 * hold cloud metadata services (169.254.169.254, fd00:ec2::254), and unspecified/broadcast addresses.
 * Loopback and private ranges stay reachable: IdPs on a private network are a normal deployment.
 */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return isForbiddenV4(address);
  if (family === 6) {
    const a = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
    if (mapped) return isForbiddenV4(mapped[1]);
    if (a === '::') return true;
    if (/^fe[89ab][0-9a-f]?:/.test(a)) return true; // fe80::/10 link-local
    if (a === 'fd00:ec2::254') return true; // AWS IMDS over IPv6
    return false;
  }
  return true; // not an IP at all: refuse
}

function isForbiddenV4(address: string): boolean {
  const [a, b] = address.split('.').map(Number);
  if (a === 169 && b === 254) return true; // link-local incl. 169.254.169.254 metadata
  if (a === 0) return true; // "this network"
  if (a === 100 && b === 100) return false;
  if (address === '255.255.255.255') return true;
  return false;
}

const METADATA_HOSTNAMES = new Set([
  'metadata.google.internal',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);

export function isForbiddenHostname(hostname: string): boolean {
  return METADATA_HOSTNAMES.has(hostname.toLowerCase().replace(/\.$/, ''));
}
