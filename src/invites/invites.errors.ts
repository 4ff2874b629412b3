import { AppError } from 'src/common/errors/app-error';

export enum InvitesErrorCode {
  INVITE_INVALID = 'INVITE_INVALID',
}

export const InvitesErrors = {
  invalid: (message: string) => new AppError('BAD_INPUT', InvitesErrorCode.INVITE_INVALID, message),
};
