import { AuditFrom, type AuditRequest } from 'src/audit/audit-context';
import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import type { ActorSnapshot } from 'src/actors/actor-snapshot';
import { ActorsErrors } from 'src/actors/actors.errors';
import { ActorsService } from 'src/actors/actors.service';
import { ActorIdArgs, ActorsArgs, SetActorRolesArgs } from 'src/actors/dto/actors.args';
import { Actor, ActorConnection, toActorModel } from 'src/actors/models/actor.model';
import { type AuthenticatedCaller, CurrentCaller } from 'src/common/auth/caller';
import { ADMIN_ROLE, RequireRoles } from 'src/common/decorators/roles.decorator';

/** Actor administration. Every operation here needs the ADMIN role. */
@Resolver(() => Actor)
@RequireRoles(ADMIN_ROLE)
export class ActorsResolver {
  constructor(private readonly service: ActorsService) {}

  @Query(() => Actor, { nullable: true, description: 'One actor by id (ADMIN)' })
  async actor(@Args() { id }: ActorIdArgs): Promise<Actor | null> {
    const a = await this.service.findById(id);
    return a ? this.model(a) : null;
  }

  @Query(() => ActorConnection, {
    description: 'Actors, oldest first, as a cursor connection (ADMIN)',
    complexity: (o) => 2 + Number(o.args.first ?? 20) * Math.max(1, o.childComplexity),
  })
  async actors(@Args() args: ActorsArgs): Promise<ActorConnection> {
    const page = await this.service.list({
      first: args.first,
      after: args.after,
      issuer: args.filter?.issuer,
      status: args.filter?.status,
      search: args.filter?.search,
      subject: args.filter?.subject,
      email: args.filter?.email,
      name: args.filter?.name,
    });
    return {
      edges: page.items.map((i) => ({ cursor: i.cursor, node: this.model(i.actor) })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.items.at(-1)?.cursor ?? null },
      totalCount: page.totalCount,
    };
  }

  @Mutation(() => Actor, {
    description: 'Refuse every token of this actor from the next request on (ADMIN)',
  })
  async disableActor(
    @Args() { id }: ActorIdArgs,
    @CurrentCaller() caller: AuthenticatedCaller,
    @AuditFrom() from: AuditRequest,
  ): Promise<Actor> {
    // UUIDs are accepted in any letter case (PostgreSQL compares them as values), so compare them so too.
    if (caller.actor.id.toLowerCase() === id.toLowerCase()) throw ActorsErrors.cannotDisableSelf();
    return this.model(await this.service.setStatus(id, 'DISABLED', from));
  }

  @Mutation(() => Actor, { description: 'Let a disabled actor authenticate again (ADMIN)' })
  async enableActor(@Args() { id }: ActorIdArgs, @AuditFrom() from: AuditRequest): Promise<Actor> {
    return this.model(await this.service.setStatus(id, 'ACTIVE', from));
  }

  @Mutation(() => Actor, { description: 'Replace the roles stored for an actor (ADMIN)' })
  async setActorRoles(
    @Args() { id, roles }: SetActorRolesArgs,
    @AuditFrom() from: AuditRequest,
  ): Promise<Actor> {
    return this.model(await this.service.setRoles(id, roles, from));
  }

  private model(a: ActorSnapshot): Actor {
    return toActorModel(a, this.service.effectiveRoles(a));
  }
}
