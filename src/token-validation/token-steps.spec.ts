import { EVERY_USE_STEPS, TOKEN_STEPS } from 'src/token-validation/token-steps';

// One ordered list of checks for validation and explainToken (issue 12): its names are the steps
// explainToken reports, in this order, and revocation is checked on every use, cached or not.
describe('TOKEN_STEPS', () => {
  it('is the ordered list explainToken reports', () => {
    expect(TOKEN_STEPS.map((s) => s.name).join(' ')).toBe(
      'format issuer key signature claims revocation',
    );
  });

  it('checks revocation again on a cached verdict, and nothing that needs the token verified again', () => {
    expect(EVERY_USE_STEPS.map((s) => s.name)).toEqual(['revocation']);
  });
});
