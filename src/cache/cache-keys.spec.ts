import { createHash } from 'node:crypto';
import { CacheKeys, namespaceOf } from 'src/cache/cache-keys';
import { sha256Hex } from 'src/common/crypto/sha256';

// SECURITY rule 14: no token or secret in a cache key; the namespace is the only metrics label.
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

describe('CacheKeys', () => {
  it('keys a verified token by its SHA-256, never by the token', () => {
    const key = CacheKeys.verifiedToken(sha256Hex(TOKEN));
    expect(key).toBe(`tok:${createHash('sha256').update(TOKEN).digest('hex')}`);
    expect(key).toMatch(/^tok:[0-9a-f]{64}$/);
    for (const part of TOKEN.split('.')) expect(key).not.toContain(part);
  });

  it('is deterministic and tells different tokens apart', () => {
    expect(CacheKeys.verifiedToken(sha256Hex(TOKEN))).toBe(
      CacheKeys.verifiedToken(sha256Hex(TOKEN)),
    );
    expect(CacheKeys.verifiedToken(sha256Hex(TOKEN))).not.toBe(
      CacheKeys.verifiedToken(sha256Hex(`${TOKEN}x`)),
    );
  });

  it('keys an actor by issuer name and a hash of the subject', () => {
    const subject = 'alice@example.com';
    const key = CacheKeys.actorByIdentity('corp', subject);
    expect(key).toBe(`actor:corp:${createHash('sha256').update(subject).digest('base64url')}`);
    expect(key).not.toContain('alice');
    expect(CacheKeys.actorByIdentity('corp', subject)).toBe(key);
  });

  it('keeps identities of different issuers and subjects apart (identity is (issuer, sub))', () => {
    const keys = new Set([
      CacheKeys.actorByIdentity('corp', 'alice'),
      CacheKeys.actorByIdentity('partner', 'alice'),
      CacheKeys.actorByIdentity('corp', 'Alice'),
      CacheKeys.actorByIdentity('corp', 'alice '),
      CacheKeys.actorByIdentity('corp1', 'alice'),
    ]);
    expect(keys.size).toBe(5);
  });

  it('hashes subjects of any length to a bounded key', () => {
    const key = CacheKeys.actorByIdentity('corp', 'x'.repeat(10000));
    expect(key.length).toBeLessThan(60);
  });
});

describe('namespaceOf', () => {
  it('is the first segment of a key, and never a hash or identity', () => {
    expect(namespaceOf(CacheKeys.verifiedToken(sha256Hex(TOKEN)))).toBe('tok');
    expect(namespaceOf(CacheKeys.actorByIdentity('corp', 'alice'))).toBe('actor');
    expect(namespaceOf('plain')).toBe('plain');
    expect(namespaceOf(':x')).toBe('');
  });

  it('keys a used client-assertion jti by a hash of client id and jti, never the jti', () => {
    const jti = 'b0c1e5d4-assertion-id';
    const key = CacheKeys.clientAssertionJti('bkc_a', jti);
    expect(key).toMatch(/^jti:[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain(jti);
    expect(CacheKeys.clientAssertionJti('bkc_a', jti)).toBe(key);
    // Another client's identical jti is another key, and no (client, jti) split collides.
    expect(CacheKeys.clientAssertionJti('bkc_b', jti)).not.toBe(key);
    expect(CacheKeys.clientAssertionJti('a:b', 'c')).not.toBe(
      CacheKeys.clientAssertionJti('a', 'b:c'),
    );
    expect(namespaceOf(key)).toBe('jti');
  });
});

describe('membership keys', () => {
  it('key a resolution by issuer and a hash of subject, fhirUser, project and generation', () => {
    const key = CacheKeys.membershipResolution('idp', 'alice', 'Practitioner/p1', undefined, 'g1');
    expect(key).toMatch(/^mship:idp:[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain('alice');
    expect(key).not.toContain('Practitioner');
    expect(namespaceOf(key)).toBe('mship');
    expect(
      new Set([
        key,
        CacheKeys.membershipResolution('idp', 'alice', 'Practitioner/p1', undefined, 'g2'),
        CacheKeys.membershipResolution('idp', 'alice', undefined, 'Practitioner/p1', 'g1'),
        CacheKeys.membershipResolution('idp', 'alicePractitioner/p1', undefined, undefined, 'g1'),
        CacheKeys.membershipResolution('partner', 'alice', 'Practitioner/p1', undefined, 'g1'),
      ]).size,
    ).toBe(5);
  });

  it('key a membership by id per generation, and the generation itself', () => {
    expect(CacheKeys.membershipById('m1', 'g1')).toMatch(/^mship:id:[A-Za-z0-9_-]{43}$/);
    expect(CacheKeys.membershipById('m1', 'g1')).not.toBe(CacheKeys.membershipById('m1', 'g2'));
    expect(CacheKeys.membershipGeneration()).toBe('mship:gen');
  });
});
