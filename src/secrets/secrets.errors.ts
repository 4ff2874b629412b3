import { AppError } from 'src/common/errors/app-error';

export enum SecretsErrorCode {
  SECRET_UNREADABLE = 'SECRET_UNREADABLE',
}

export const SecretsErrors = {
  /**
   * A stored secret did not decrypt: the configured `bridgekeeper.secrets.key` is not the one it was
   * encrypted with, or the stored value was altered. Never carries the ciphertext. A server-side fault,
   * so a 503 for whoever needed the secret.
   */
  unreadable: (why: string) =>
    new AppError(
      'UNAVAILABLE',
      SecretsErrorCode.SECRET_UNREADABLE,
      'The service is temporarily unavailable',
      { reason: `secret_unreadable: ${why}` },
    ),
};
