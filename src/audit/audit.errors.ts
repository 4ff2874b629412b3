import { AppError } from 'src/common/errors/app-error';

export enum AuditErrorCode {
  INVALID_CURSOR = 'INVALID_CURSOR',
  INVALID_AUDIT_FILTER = 'INVALID_AUDIT_FILTER',
}

export const AuditErrors = {
  invalidCursor: () =>
    new AppError('BAD_INPUT', AuditErrorCode.INVALID_CURSOR, 'after is not a cursor of this list'),
  invalidFilter: (field: string) =>
    new AppError(
      'BAD_INPUT',
      AuditErrorCode.INVALID_AUDIT_FILTER,
      field === 'from' ? 'from must not be after to' : `${field} must be a UUID`,
    ),
};
