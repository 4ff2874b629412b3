import type { AuthenticatedCaller } from 'src/common/auth/caller';

/**
 * Who may manage a project: a server admin any, a project admin their own. The projects module asks;
 * the memberships module answers (a project's admins are its admin members) and provides this port, so
 * that projects never imports memberships (memberships → projects, one way).
 */
export abstract class ProjectAccess {
  /** Refuses (403) a caller who may not manage the project; 404 for an unknown project. */
  abstract assertCanManage(caller: AuthenticatedCaller, projectId: string): Promise<void>;

  /** Ids of the projects the caller may manage; undefined: every project (server admin). */
  abstract manageableProjectIds(caller: AuthenticatedCaller): Promise<string[] | undefined>;
}
