import { AppError, INVALID_TOKEN_DESCRIPTION } from 'src/common/errors/app-error';

export enum IdentityErrorCode {
  CREDENTIALS_MISSING = 'CREDENTIALS_MISSING',
  AUTHORIZATION_HEADER_MALFORMED = 'AUTHORIZATION_HEADER_MALFORMED',
  ROLE_REQUIRED = 'ROLE_REQUIRED',
}

export const IdentityErrors = {
  missing: () =>
    new AppError(
      'MISSING_CREDENTIALS',
      IdentityErrorCode.CREDENTIALS_MISSING,
      'A bearer token is required',
    ),
  malformedHeader: () =>
    new AppError(
      'INVALID_TOKEN',
      IdentityErrorCode.AUTHORIZATION_HEADER_MALFORMED,
      INVALID_TOKEN_DESCRIPTION,
      {
        reason: 'malformed_header',
      },
    ),
  roleRequired: () =>
    new AppError(
      'FORBIDDEN',
      IdentityErrorCode.ROLE_REQUIRED,
      'You do not have permission to do this',
    ),
};
