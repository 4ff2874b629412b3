import { AppError } from 'src/common/errors/app-error';

export enum SsoErrorCode {
  SSO_PROVIDER_NOT_FOUND = 'SSO_PROVIDER_NOT_FOUND',
  SSO_PROVIDER_INVALID = 'SSO_PROVIDER_INVALID',
  SSO_PROVIDER_READ_ONLY = 'SSO_PROVIDER_READ_ONLY',
  SSO_PROVIDER_NAME_TAKEN = 'SSO_PROVIDER_NAME_TAKEN',
}

export const SsoErrors = {
  notFound: () =>
    new AppError('NOT_FOUND', SsoErrorCode.SSO_PROVIDER_NOT_FOUND, 'SSO provider not found'),
  /** `problems`: "field: why" lines from the SSO rules; never a URL, a secret or a claim value. */
  invalid: (problems: string[]) =>
    new AppError('BAD_INPUT', SsoErrorCode.SSO_PROVIDER_INVALID, problems.join('; ')),
  readOnly: () =>
    new AppError(
      'FORBIDDEN',
      SsoErrorCode.SSO_PROVIDER_READ_ONLY,
      'This SSO provider comes from configuration and is read-only',
    ),
  nameTaken: (name: string) =>
    new AppError(
      'CONFLICT',
      SsoErrorCode.SSO_PROVIDER_NAME_TAKEN,
      `name: an SSO provider named "${name}" already exists`,
    ),
};
