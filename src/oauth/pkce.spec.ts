import { isS256Challenge, s256, verifierMatches } from 'src/oauth/pkce';

describe('PKCE S256', () => {
  // RFC 7636 Appendix B.
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

  it('matches the RFC 7636 example', () => {
    expect(s256(verifier)).toBe(challenge);
    expect(verifierMatches(verifier, challenge)).toBe(true);
  });

  it('refuses a wrong, short, or plain verifier', () => {
    expect(verifierMatches(verifier.replace('d', 'e'), challenge)).toBe(false);
    expect(verifierMatches('short', s256('short'))).toBe(false);
    // `plain`: the challenge is the verifier itself.
    expect(verifierMatches(verifier, verifier)).toBe(false);
    expect(isS256Challenge('x'.repeat(44))).toBe(false);
  });
});
