import { AppError, INVALID_TOKEN_DESCRIPTION } from 'src/common/errors/app-error';

export enum MembershipsErrorCode {
  NOT_PROJECT_ADMIN = 'NOT_PROJECT_ADMIN',
  MEMBERSHIP_NOT_FOUND = 'MEMBERSHIP_NOT_FOUND',
  INVALID_MEMBERSHIP_ID = 'INVALID_MEMBERSHIP_ID',
  FHIR_USER_INVALID = 'FHIR_USER_INVALID',
  MEMBERSHIP_CONFLICT = 'MEMBERSHIP_CONFLICT',
  MEMBERSHIP_AMBIGUOUS = 'MEMBERSHIP_AMBIGUOUS',
  MEMBERSHIP_INACTIVE = 'MEMBERSHIP_INACTIVE',
  PROJECT_HEADER_INVALID = 'PROJECT_HEADER_INVALID',
  NOT_IN_PROJECT = 'NOT_IN_PROJECT',
  ALREADY_MEMBER = 'ALREADY_MEMBER',
}

/** Resolution failures look like any other invalid token to the caller (rule 4); the reason is logged. */
const unresolvable = (code: MembershipsErrorCode, reason: string) =>
  new AppError('INVALID_TOKEN', code, INVALID_TOKEN_DESCRIPTION, { reason });

export const MembershipsErrors = {
  notProjectAdmin: () =>
    new AppError(
      'FORBIDDEN',
      MembershipsErrorCode.NOT_PROJECT_ADMIN,
      'Only a server admin or an admin of this project may do this',
    ),
  notFound: () =>
    new AppError('NOT_FOUND', MembershipsErrorCode.MEMBERSHIP_NOT_FOUND, 'Membership not found'),
  invalidId: () =>
    new AppError('BAD_INPUT', MembershipsErrorCode.INVALID_MEMBERSHIP_ID, 'id must be a UUID'),
  fhirUserInvalid: () => unresolvable(MembershipsErrorCode.FHIR_USER_INVALID, 'fhir_user_invalid'),
  conflict: () => unresolvable(MembershipsErrorCode.MEMBERSHIP_CONFLICT, 'fhir_user_sub_conflict'),
  ambiguous: () => unresolvable(MembershipsErrorCode.MEMBERSHIP_AMBIGUOUS, 'membership_ambiguous'),
  inactive: () => unresolvable(MembershipsErrorCode.MEMBERSHIP_INACTIVE, 'membership_inactive'),
  // The token is valid: the caller is told why (403), in the same words whether or not the project
  // exists, so outsiders learn nothing about which projects there are.
  notInProject: () =>
    new AppError(
      'FORBIDDEN',
      MembershipsErrorCode.NOT_IN_PROJECT,
      'You are not a member of the project named by X-Bridgekeeper-Project',
      { reason: 'not_in_project' },
    ),
  linkedElsewhere: () =>
    unresolvable(MembershipsErrorCode.MEMBERSHIP_CONFLICT, 'membership_linked_to_other_actor'),
  alreadyMember: (field: 'externalId' | 'email') =>
    new AppError(
      'CONFLICT',
      MembershipsErrorCode.ALREADY_MEMBER,
      `A member with this ${field} is already in the project`,
    ),
  boundToOtherIssuer: () =>
    new AppError(
      'CONFLICT',
      MembershipsErrorCode.ALREADY_MEMBER,
      'This member is bound to another issuer; an invite cannot move a member to another issuer',
    ),
  badProjectHeader: () =>
    new AppError(
      'BAD_INPUT',
      MembershipsErrorCode.PROJECT_HEADER_INVALID,
      'X-Bridgekeeper-Project must be a project id (UUID)',
    ),
};
