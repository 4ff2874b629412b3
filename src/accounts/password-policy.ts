import { COMMON_PASSWORDS } from 'src/accounts/common-passwords';

/** Upper bound of a password (characters): long enough for any passphrase, bounded work per attempt. */
export const MAX_PASSWORD_LENGTH = 256;

/**
 * Why a new password is refused, in words fit for the form (never the password itself), or null when
 * it is acceptable: at least `minLength` characters (code points), at most 256, not one of the common
 * passwords shipped with Bridgekeeper, not the username or email, not one repeated character.
 */
export function passwordProblem(
  password: string,
  minLength: number,
  identifiers: readonly (string | null | undefined)[] = [],
): string | null {
  const length = [...password].length;
  if (length < minLength) return `The password must be at least ${minLength} characters long.`;
  if (length > MAX_PASSWORD_LENGTH)
    return `The password must be at most ${MAX_PASSWORD_LENGTH} characters long.`;
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower) || /^(.)\1*$/su.test(password))
    return 'This password is too common. Choose another one.';
  for (const id of identifiers) {
    if (id && lower === id.toLowerCase()) return 'The password must not be your username or email.';
  }
  return null;
}
