import { Args, Context, ID, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Actor, toActorModel } from 'src/actors/models/actor.model';
import { ActorsService } from 'src/actors/actors.service';
import { type AuthenticatedCaller, CurrentCaller } from 'src/common/auth/caller';
import { ADMIN_ROLE } from 'src/common/decorators/roles.decorator';
import { MembershipLoaders } from 'src/memberships/membership-loaders';
import { MembershipsService } from 'src/memberships/memberships.service';
import { ProjectMembership, toMembershipModel } from 'src/memberships/models/membership.model';
import { Project, toProjectModel } from 'src/projects/models/project.model';
import { ProjectsService } from 'src/projects/projects.service';

interface Ctx {
  req: object;
}

/** Projects as their admins see them: server admins all of them, project admins their own. */
@Resolver(() => Project)
export class ProjectMembershipsResolver {
  constructor(
    private readonly projectsService: ProjectsService,
    private readonly membershipsService: MembershipsService,
    private readonly loaders: MembershipLoaders,
  ) {}

  @Query(() => [Project], { description: 'Projects the caller administers (all, for ADMIN)' })
  async projects(@CurrentCaller() caller: AuthenticatedCaller): Promise<Project[]> {
    const ids = caller.roles.includes(ADMIN_ROLE)
      ? undefined
      : caller.adminOfProject !== undefined
        ? [caller.adminOfProject]
        : await this.membershipsService.administeredProjectIds(caller.actor.id);
    if (ids && ids.length === 0) return [];
    return (await this.projectsService.list(ids)).map(toProjectModel);
  }

  @Query(() => Project, { description: 'One project (ADMIN or an admin of that project)' })
  async project(
    @Args('id', { type: () => ID }) id: string,
    @CurrentCaller() caller: AuthenticatedCaller,
  ): Promise<Project> {
    await this.membershipsService.assertCanManage(caller, id);
    return toProjectModel(await this.projectsService.get(id));
  }

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
