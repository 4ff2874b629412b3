import { AppError } from 'src/common/errors/app-error';

export enum AccountsErrorCode {
  ACCOUNT_NOT_FOUND = 'ACCOUNT_NOT_FOUND',
  ACCOUNT_EXISTS = 'ACCOUNT_EXISTS',
  PASSWORD_REFUSED = 'PASSWORD_REFUSED',
  LINK_INVALID = 'LINK_INVALID',
  NO_EMAIL = 'NO_EMAIL',
  WRONG_PASSWORD = 'WRONG_PASSWORD',
  NO_PASSWORD = 'NO_PASSWORD',
}

export const AccountsErrors = {
  notFound: () =>
    new AppError(
      'NOT_FOUND',
      AccountsErrorCode.ACCOUNT_NOT_FOUND,
      'No local account for this actor',
    ),
  exists: (what: 'username' | 'email') =>
    new AppError(
      'CONFLICT',
      AccountsErrorCode.ACCOUNT_EXISTS,
      `An account with this ${what} already exists`,
    ),
  passwordRefused: (why: string) =>
    new AppError('BAD_INPUT', AccountsErrorCode.PASSWORD_REFUSED, why),
  linkInvalid: () =>
    new AppError(
      'NOT_FOUND',
      AccountsErrorCode.LINK_INVALID,
      'This link is not valid: it was already used, it expired, or it was mistyped',
    ),
  wrongPassword: () =>
    new AppError(
      'BAD_INPUT',
      AccountsErrorCode.WRONG_PASSWORD,
      'currentPassword: this is not your current password',
    ),
  noPassword: () =>
    new AppError(
      'BAD_INPUT',
      AccountsErrorCode.NO_PASSWORD,
      'currentPassword: you sign in through your identity provider: there is no password to change here',
    ),
  noEmail: () =>
    new AppError('BAD_INPUT', AccountsErrorCode.NO_EMAIL, 'This account has no email address'),
};
