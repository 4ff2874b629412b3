import { Context, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { Actor, toActorModel } from 'src/actors/models/actor.model';
import { ActorsService } from 'src/actors/actors.service';
import { MembershipLoaders } from 'src/memberships/membership-loaders';
import { ProjectMembership, toMembershipModel } from 'src/memberships/models/membership.model';
import { Project } from 'src/projects/models/project.model';

interface Ctx {
  req: object;
}

/** A project's memberships (the root `projects` and `project` queries are the projects module's). */
@Resolver(() => Project)
export class ProjectMembershipsResolver {
  constructor(private readonly loaders: MembershipLoaders) {}

  @ResolveField(() => [ProjectMembership])
  async memberships(@Parent() project: Project, @Context() ctx: Ctx): Promise<ProjectMembership[]> {
    const rows = await this.loaders.for(ctx.req).membershipsByProject.load(project.id);
    return rows.map(toMembershipModel);
  }
}

@Resolver(() => ProjectMembership)
export class MembershipActorResolver {
  constructor(
    private readonly loaders: MembershipLoaders,
    private readonly actors: ActorsService,
  ) {}

  @ResolveField(() => Actor, { nullable: true, description: 'The linked actor, once signed in' })
  async actor(@Parent() m: ProjectMembership, @Context() ctx: Ctx): Promise<Actor | null> {
    if (!m.actorId) return null;
    const a = await this.loaders.for(ctx.req).actorById.load(m.actorId);
    return a ? toActorModel(a, this.actors.effectiveRoles(a)) : null;
  }
}

@Resolver(() => Actor)
export class ActorMembershipsResolver {
  constructor(private readonly loaders: MembershipLoaders) {}

  @ResolveField(() => [ProjectMembership], {
    description: 'Project memberships linked to this actor',
  })
  async memberships(@Parent() actor: Actor, @Context() ctx: Ctx): Promise<ProjectMembership[]> {
    const rows = await this.loaders.for(ctx.req).membershipsByActor.load(actor.id);
    return rows.map(toMembershipModel);
  }
}
