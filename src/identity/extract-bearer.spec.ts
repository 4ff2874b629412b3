import { extractBearer } from 'src/identity/identity.service';

const kindOf = (header: string | undefined): string => {
  try {
    extractBearer(header);
    return 'accepted';
  } catch (err) {
    return (err as { kind: string }).kind;
  }
};

describe('extractBearer (RFC 6750 §2.1, one regular expression on the happy path)', () => {
  it('returns the token of a Bearer header, any case, extra spaces allowed', () => {
    expect(extractBearer('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(extractBearer('bearer   tok ')).toBe('tok');
    expect(extractBearer('BEARER tok')).toBe('tok');
  });

  it('no header, an empty one or another scheme: no credentials', () => {
    for (const h of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearertok', 'DPoP tok'])
      expect(kindOf(h)).toBe('MISSING_CREDENTIALS');
  });

  it('a Bearer header without one usable token: invalid', () => {
    for (const h of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer\ttok', 'Bearer tok\n'])
      expect(kindOf(h)).toBe('INVALID_TOKEN');
  });
});
