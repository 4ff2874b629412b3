import { AppError, INVALID_TOKEN_DESCRIPTION } from 'src/common/errors/app-error';

export enum ActorsErrorCode {
  ACTOR_NOT_FOUND = 'ACTOR_NOT_FOUND',
  ACTOR_NOT_PROVISIONED = 'ACTOR_NOT_PROVISIONED',
  ACTOR_DISABLED = 'ACTOR_DISABLED',
  INVALID_ACTOR_ID = 'INVALID_ACTOR_ID',
  INVALID_CURSOR = 'INVALID_CURSOR',
  INVALID_ROLE = 'INVALID_ROLE',
  CANNOT_DISABLE_SELF = 'CANNOT_DISABLE_SELF',
}

export const ActorsErrors = {
  notFound: () => new AppError('NOT_FOUND', ActorsErrorCode.ACTOR_NOT_FOUND, 'Actor not found'),
  // Both look exactly like any other invalid token to the caller (SECURITY.md rule 4).
  notProvisioned: () =>
    new AppError(
      'INVALID_TOKEN',
      ActorsErrorCode.ACTOR_NOT_PROVISIONED,
      INVALID_TOKEN_DESCRIPTION,
      {
        reason: 'actor_not_provisioned',
      },
    ),
  disabled: () =>
    new AppError('INVALID_TOKEN', ActorsErrorCode.ACTOR_DISABLED, INVALID_TOKEN_DESCRIPTION, {
      reason: 'actor_disabled',
    }),
  invalidId: () => new AppError('BAD_INPUT', ActorsErrorCode.INVALID_ACTOR_ID, 'id must be a UUID'),
  invalidCursor: () =>
    new AppError('BAD_INPUT', ActorsErrorCode.INVALID_CURSOR, 'after is not a valid cursor'),
  invalidRole: (why: string) => new AppError('BAD_INPUT', ActorsErrorCode.INVALID_ROLE, why),
  cannotDisableSelf: () =>
    new AppError(
      'BAD_INPUT',
      ActorsErrorCode.CANNOT_DISABLE_SELF,
      'An admin cannot disable their own actor',
    ),
};
