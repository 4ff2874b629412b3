import { AppError } from 'src/common/errors/app-error';

export enum ClientsErrorCode {
  CLIENT_NOT_FOUND = 'CLIENT_NOT_FOUND',
  INVALID_CLIENT_INPUT = 'INVALID_CLIENT_INPUT',
}

export const ClientsErrors = {
  notFound: () => new AppError('NOT_FOUND', ClientsErrorCode.CLIENT_NOT_FOUND, 'Client not found'),
  invalid: (why: string) => new AppError('BAD_INPUT', ClientsErrorCode.INVALID_CLIENT_INPUT, why),
};
