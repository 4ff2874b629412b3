import { AppError, INVALID_TOKEN_DESCRIPTION } from 'src/common/errors/app-error';

export enum TokenErrorCode {
  TOKEN_MALFORMED = 'TOKEN_MALFORMED',
  TOKEN_ISSUER_UNTRUSTED = 'TOKEN_ISSUER_UNTRUSTED',
  TOKEN_KEY_UNKNOWN = 'TOKEN_KEY_UNKNOWN',
  TOKEN_SIGNATURE_INVALID = 'TOKEN_SIGNATURE_INVALID',
  TOKEN_EXPIRED = 'TOKEN_EXPIRED',
  TOKEN_CLAIMS_INVALID = 'TOKEN_CLAIMS_INVALID',
  TOKEN_REVOKED = 'TOKEN_REVOKED',
  ISSUER_UNAVAILABLE = 'ISSUER_UNAVAILABLE',
}

/** Why a token was refused; `reason` is a fixed metrics/log label, never sent to the caller. */
export function invalidToken(code: TokenErrorCode, reason: string, cause?: unknown): AppError {
  return new AppError('INVALID_TOKEN', code, INVALID_TOKEN_DESCRIPTION, { reason, cause });
}

export function issuerUnavailable(reason: string, cause?: unknown): AppError {
  return new AppError(
    'UNAVAILABLE',
    TokenErrorCode.ISSUER_UNAVAILABLE,
    'The identity provider cannot be reached; try again shortly',
    {
      reason,
      cause,
      retryAfterSeconds: 5,
    },
  );
}
