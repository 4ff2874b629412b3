import { AppError } from 'src/common/errors/app-error';

export enum ClientsErrorCode {
  CLIENT_NOT_FOUND = 'CLIENT_NOT_FOUND',
  INVALID_CLIENT_INPUT = 'INVALID_CLIENT_INPUT',
  BUILT_IN_CLIENT = 'BUILT_IN_CLIENT',
}

export const ClientsErrors = {
  notFound: () => new AppError('NOT_FOUND', ClientsErrorCode.CLIENT_NOT_FOUND, 'Client not found'),
  builtIn: () =>
    new AppError(
      'BAD_INPUT',
      ClientsErrorCode.BUILT_IN_CLIENT,
      'id: this is the admin console’s built-in client; Bridgekeeper keeps it as it must be (it cannot be changed, disabled or given a secret)',
    ),
  invalid: (why: string) => new AppError('BAD_INPUT', ClientsErrorCode.INVALID_CLIENT_INPUT, why),
};
