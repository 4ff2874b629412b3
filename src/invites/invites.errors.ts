import { AppError } from 'src/common/errors/app-error';

export enum InvitesErrorCode {
  INVITE_INVALID = 'INVITE_INVALID',
  ALREADY_MEMBER = 'ALREADY_MEMBER',
}

export const InvitesErrors = {
  invalid: (message: string) => new AppError('BAD_INPUT', InvitesErrorCode.INVITE_INVALID, message),
  alreadyMember: (field: 'externalId' | 'email') =>
    new AppError(
      'CONFLICT',
      InvitesErrorCode.ALREADY_MEMBER,
      `A member with this ${field} is already in the project`,
    ),
};
