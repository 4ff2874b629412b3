import { isIP } from 'node:net';
import type { IssuerField } from 'src/config/issuer-rules';
import { isForbiddenAddress, isForbiddenHostname } from 'src/outbound/address-policy';

export interface IssuerUrlPolicy {
  /** `bridgekeeper.outbound.allow.link.local`: the operator's explicit opt-in to link-local targets. */
  allowLinkLocal: boolean;
}

/**
 * SSRF checks for the URLs an admin enters through the API (SECURITY.md rule 8), on top of the shared
 * issuer rules (scheme, https in production): no credentials in the URL, and no link-local, metadata or
 * unspecified address as a literal host. A hostname that resolves to such an address is refused again by
 * `OutboundHttpService` at connect time, after DNS.
 */
export function issuerUrlProblems(
  urls: Partial<Record<IssuerField, string | undefined>>,
  policy: IssuerUrlPolicy,
): { field: IssuerField; message: string }[] {
  const problems: { field: IssuerField; message: string }[] = [];
  for (const [field, value] of Object.entries(urls) as [IssuerField, string | undefined][]) {
    if (value === undefined) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      continue; // the shared rules report it
    }
    if (url.username !== '' || url.password !== '') {
      problems.push({ field, message: 'must not contain credentials' });
    }
    if (policy.allowLinkLocal) continue;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if ((isIP(host) !== 0 && isForbiddenAddress(host)) || isForbiddenHostname(host)) {
      problems.push({
        field,
        message: 'must not point at a link-local, metadata or unspecified address',
      });
    }
  }
  return problems;
}
