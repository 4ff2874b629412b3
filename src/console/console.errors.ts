import { AppError } from 'src/common/errors/app-error';

export enum ConsoleErrorCode {
  NOT_A_PERSON = 'NOT_A_PERSON',
  SESSION_NOT_FOUND = 'SESSION_NOT_FOUND',
}

export const ConsoleErrors = {
  notAPerson: () =>
    new AppError(
      'FORBIDDEN',
      ConsoleErrorCode.NOT_A_PERSON,
      'Only a signed-in person manages their own account (not a client, nor a client acting for one)',
    ),
  sessionNotFound: () =>
    new AppError(
      'NOT_FOUND',
      ConsoleErrorCode.SESSION_NOT_FOUND,
      'id: none of your signed-in browsers has this id (it may have ended already)',
    ),
};
