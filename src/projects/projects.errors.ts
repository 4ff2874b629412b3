import { AppError } from 'src/common/errors/app-error';

export enum ProjectsErrorCode {
  PROJECT_NOT_FOUND = 'PROJECT_NOT_FOUND',
  INVALID_PROJECT_ID = 'INVALID_PROJECT_ID',
  INVALID_PROJECT_NAME = 'INVALID_PROJECT_NAME',
}

export const ProjectsErrors = {
  notFound: () =>
    new AppError('NOT_FOUND', ProjectsErrorCode.PROJECT_NOT_FOUND, 'Project not found'),
  invalidId: () =>
    new AppError('BAD_INPUT', ProjectsErrorCode.INVALID_PROJECT_ID, 'projectId must be a UUID'),
  invalidName: () =>
    new AppError(
      'BAD_INPUT',
      ProjectsErrorCode.INVALID_PROJECT_NAME,
      'name must be 1 to 200 characters',
    ),
};
