import { AppError } from 'src/common/errors/app-error';

export enum ConsoleErrorCode {
  NOT_A_PERSON = 'NOT_A_PERSON',
  SESSION_NOT_FOUND = 'SESSION_NOT_FOUND',
  TOO_MANY_ATTEMPTS = 'TOO_MANY_ATTEMPTS',
}

export const ConsoleErrors = {
  notAPerson: () =>
    new AppError(
      'FORBIDDEN',
      ConsoleErrorCode.NOT_A_PERSON,
      'Only a signed-in person manages their own account (not a client, nor a client acting for one)',
    ),
  tooManyAttempts: (retryAfterSeconds: number) =>
    new AppError(
      'BAD_INPUT',
      ConsoleErrorCode.TOO_MANY_ATTEMPTS,
      `currentPassword: too many wrong passwords; try again in ${retryAfterSeconds} seconds`,
      { retryAfterSeconds, reason: 'password_change_locked' },
    ),
  sessionNotFound: () =>
    new AppError(
      'NOT_FOUND',
      ConsoleErrorCode.SESSION_NOT_FOUND,
      'id: none of your signed-in browsers has this id (it may have ended already)',
    ),
};
