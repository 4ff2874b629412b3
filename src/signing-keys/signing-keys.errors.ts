import { AppError } from 'src/common/errors/app-error';

export enum SigningKeysErrorCode {
  SIGNING_KEYS_UNAVAILABLE = 'SIGNING_KEYS_UNAVAILABLE',
}

export const SigningKeysErrors = {
  /** The key store cannot answer (database down or failing) or no usable signing key: a 503, never a 500. */
  unavailable: (reason: string, cause?: unknown) =>
    new AppError(
      'UNAVAILABLE',
      SigningKeysErrorCode.SIGNING_KEYS_UNAVAILABLE,
      'The service is temporarily unavailable',
      { reason, retryAfterSeconds: 5, ...(cause === undefined ? {} : { cause }) },
    ),
};
