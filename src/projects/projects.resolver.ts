import { AuditFrom, type AuditRequest } from 'src/audit/audit-context';
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { type AuthenticatedCaller, CurrentCaller } from 'src/common/auth/caller';
import { ADMIN_ROLE, RequireRoles } from 'src/common/decorators/roles.decorator';
import { Project, toProjectModel } from 'src/projects/models/project.model';
import { ProjectAccess } from 'src/projects/project-access';
import { ProjectsService } from 'src/projects/projects.service';

/** Projects as their admins see them: server admins all of them, project admins their own. */
@Resolver(() => Project)
export class ProjectsResolver {
  constructor(
    private readonly projectsService: ProjectsService,
    private readonly access: ProjectAccess,
  ) {}

  @Query(() => [Project], { description: 'Projects the caller administers (all, for ADMIN)' })
  async projects(@CurrentCaller() caller: AuthenticatedCaller): Promise<Project[]> {
    const ids = await this.access.manageableProjectIds(caller);
    if (ids && ids.length === 0) return [];
    return (await this.projectsService.list(ids)).map(toProjectModel);
  }

  @Query(() => Project, { description: 'One project (ADMIN or an admin of that project)' })
  async project(
    @Args('id', { type: () => ID }) id: string,
    @CurrentCaller() caller: AuthenticatedCaller,
  ): Promise<Project> {
    await this.access.assertCanManage(caller, id);
    return toProjectModel(await this.projectsService.get(id));
  }

  @RequireRoles(ADMIN_ROLE)
  @Mutation(() => Project, { description: 'Create a project (ADMIN)' })
  async createProject(
    @Args('name') name: string,
    @AuditFrom() from: AuditRequest,
  ): Promise<Project> {
    return toProjectModel(await this.projectsService.create(name, from));
  }
}
