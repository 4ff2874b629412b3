import { passwordProblem } from 'src/accounts/password-policy';

describe('password policy', () => {
  it('accepts a long uncommon passphrase', () => {
    expect(passwordProblem('correct horse battery', 12)).toBeNull();
  });

  it('counts characters, not bytes', () => {
    expect(passwordProblem('ééééééééééé', 12)).toMatch(/at least 12/);
    expect(passwordProblem('éàüöçñøåæœßx', 12)).toBeNull();
  });

  it.each(['Password1234', 'QWERTYUIOP123', 'aaaaaaaaaaaaaaaa', 'bridgekeeper123'])(
    'refuses the common password %s whatever its case',
    (p) => {
      expect(passwordProblem(p, 8)).toMatch(/too common/);
    },
  );

  it('refuses the username or email as password, and overlong ones', () => {
    expect(passwordProblem('Alice@Example.com', 12, ['alice@example.com'])).toMatch(
      /username or email/,
    );
    expect(passwordProblem('x'.repeat(257) + 'y', 12)).toMatch(/at most 256/);
  });
});
