import { Query, Resolver } from '@nestjs/graphql';
import { toActorModel } from 'src/actors/models/actor.model';
import { CurrentCaller } from 'src/common/auth/caller';
import { ADMIN_ROLE } from 'src/common/decorators/roles.decorator';
import { Viewer } from 'src/console/models/viewer.model';
import { type Delegation, toDelegationModel } from 'src/identity/models/delegation.model';
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
      act: actOf(caller),
    };
  }
}

/** Who acts for the caller: an admin client on behalf of a member, or a delegated token's agent. */
function actOf(caller: Principal): Delegation | null {
  if (caller.onBehalfOf) {
    return { sub: caller.onBehalfOf.actorId, clientId: caller.onBehalfOf.clientId, act: null };
  }
  return caller.own?.act ? toDelegationModel(caller.own.act) : null;
}
