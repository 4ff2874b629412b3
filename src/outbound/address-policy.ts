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
    // One spelling per address, so `0:0:0:0:0:ffff:a9fe:a9fe` or `FE80:0::1` cannot slip past.
    const a = canonicalV6(address);
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
    if (mapped) return isForbiddenV4(mapped[1]);
    // The WHATWG URL parser writes [::ffff:169.254.169.254] as [::ffff:a9fe:a9fe].
    const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
    if (mappedHex) {
      const hi = parseInt(mappedHex[1], 16);
      const lo = parseInt(mappedHex[2], 16);
      return isForbiddenV4(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
    }
    if (a === '::') return true;
    if (/^fe[89ab][0-9a-f]?:/.test(a)) return true; // fe80::/10 link-local
    if (a === 'fd00:ec2::254') return true; // AWS IMDS over IPv6
    return false;
  }
  return true; // not an IP at all: refuse
}

/** The WHATWG URL spelling of an IPv6 address (zone id dropped): lower case, zeros compressed. */
function canonicalV6(address: string): string {
  const bare = address.replace(/%.*$/, '');
  try {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return bare.toLowerCase();
  }
}

function isForbiddenV4(address: string): boolean {
  const [a, b] = address.split('.').map(Number);
  if (a === 169 && b === 254) return true; // link-local incl. 169.254.169.254 metadata
  if (a === 0) return true; // "this network"
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
