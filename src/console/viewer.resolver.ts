import { Query, Resolver } from '@nestjs/graphql';
import { toActorModel } from 'src/actors/models/actor.model';
import { CurrentCaller } from 'src/common/auth/caller';
import { ADMIN_ROLE } from 'src/common/decorators/roles.decorator';
import { Viewer } from 'src/console/models/viewer.model';
import type { Principal } from 'src/identity/principal';
import { toProjectModel } from 'src/projects/models/project.model';
import { ProjectAccess } from 'src/projects/project-access';
import { ProjectsService } from 'src/projects/projects.service';

@Resolver(() => Viewer)
export class ViewerResolver {
  constructor(
    private readonly access: ProjectAccess,
    private readonly projects: ProjectsService,
  ) {}

  @Query(() => Viewer, { description: 'The signed-in caller and what they administer' })
  async viewer(@CurrentCaller() caller: Principal): Promise<Viewer> {
    const ids = await this.access.manageableProjectIds(caller);
    const projects = ids && ids.length === 0 ? [] : await this.projects.list(ids);
    return {
      actor: toActorModel(caller.actor, caller.roles),
      isServerAdmin: caller.roles.includes(ADMIN_ROLE),
      adminProjects: projects.map(toProjectModel),
    };
  }
}
