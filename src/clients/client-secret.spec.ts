import { hashSecret, newClientId, newClientSecret, secretMatches } from 'src/clients/client-secret';

describe('client secrets (SECURITY rule 11)', () => {
  it('are 256 random bits, never repeated', () => {
    const secrets = new Set(Array.from({ length: 200 }, () => newClientSecret()));
    expect(secrets.size).toBe(200);
    for (const s of secrets) expect(Buffer.from(s.slice(4), 'base64url')).toHaveLength(32);
    expect(newClientId()).toMatch(/^bkc_[A-Za-z0-9_-]{22}$/);
  });

  it('are stored as a hash that does not contain them', () => {
    const s = newClientSecret();
    const h = hashSecret(s);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(h).not.toContain(s.slice(4));
  });

  it('match only the exact secret', () => {
    const s = newClientSecret();
    const h = hashSecret(s);
    expect(secretMatches(s, h)).toBe(true);
    expect(secretMatches(`${s}x`, h)).toBe(false);
    expect(secretMatches(s.slice(0, -1), h)).toBe(false);
    expect(secretMatches('', h)).toBe(false);
    // A malformed stored hash is a mismatch, not an exception.
    expect(secretMatches(s, 'not-hex')).toBe(false);
  });
});
