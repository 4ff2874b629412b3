import { AppError } from 'src/common/errors/app-error';

export enum IssuersErrorCode {
  ISSUER_NOT_FOUND = 'ISSUER_NOT_FOUND',
  ISSUER_INVALID = 'ISSUER_INVALID',
  ISSUER_READ_ONLY = 'ISSUER_READ_ONLY',
  ISSUER_NAME_TAKEN = 'ISSUER_NAME_TAKEN',
  ISSUER_ISS_TAKEN = 'ISSUER_ISS_TAKEN',
  ISSUER_OPAQUE_TAKEN = 'ISSUER_OPAQUE_TAKEN',
  ISSUER_UNREACHABLE = 'ISSUER_UNREACHABLE',
}

export const IssuersErrors = {
  notFound: () =>
    new AppError('NOT_FOUND', IssuersErrorCode.ISSUER_NOT_FOUND, 'Trusted issuer not found'),
  /** `problems`: "field: why" lines from the issuer rules; they never contain a URL or secret. */
  invalid: (problems: string[]) =>
    new AppError('BAD_INPUT', IssuersErrorCode.ISSUER_INVALID, problems.join('; ')),
  /**
   * `problems`: "field: what the endpoint did" lines (HTTP status or network error code, never the URL
   * nor the response body).
   */
  unreachable: (problems: string[]) =>
    new AppError(
      'BAD_INPUT',
      IssuersErrorCode.ISSUER_UNREACHABLE,
      `${problems.join('; ')} (nothing was saved; set skipReachabilityCheck: true to save it anyway)`,
    ),
  readOnly: (name: string) =>
    new AppError(
      'FORBIDDEN',
      IssuersErrorCode.ISSUER_READ_ONLY,
      `Trusted issuer "${name}" comes from configuration and is read-only`,
    ),
  nameTaken: (name: string) =>
    new AppError(
      'CONFLICT',
      IssuersErrorCode.ISSUER_NAME_TAKEN,
      `name: a trusted issuer named "${name}" already exists`,
    ),
  issTaken: (other?: string) =>
    new AppError(
      'CONFLICT',
      IssuersErrorCode.ISSUER_ISS_TAKEN,
      `issuer: ${other ? `trusted issuer "${other}"` : 'another trusted issuer'} already has this exact iss`,
    ),
  opaqueTaken: (other?: string) =>
    new AppError(
      'CONFLICT',
      IssuersErrorCode.ISSUER_OPAQUE_TAKEN,
      `opaque: ${other ? `trusted issuer "${other}"` : 'another trusted issuer'} already accepts opaque tokens; at most one may`,
    ),
};
