import { AuditFrom, type AuditRequest } from 'src/audit/audit-context';
import { Args, Int, Mutation, Resolver } from '@nestjs/graphql';
import { ActorsErrors } from 'src/actors/actors.errors';
import { ActorsService } from 'src/actors/actors.service';
import { ADMIN_ROLE, RequireRoles } from 'src/common/decorators/roles.decorator';
import { ActorSessionsService } from 'src/oauth/actor-sessions.service';
import { RevokeSessionsArgs } from 'src/oauth/dto/revoke-sessions.args';

@Resolver()
@RequireRoles(ADMIN_ROLE)
export class SessionsResolver {
  constructor(
    private readonly actors: ActorsService,
    private readonly sessions: ActorSessionsService,
  ) {}

  @Mutation(() => Int, {
    description:
      'End every Bridgekeeper session of an actor: its grants and refresh tokens now, its access tokens and browser sessions on every node within a second. Returns how many grants were open (ADMIN)',
  })
  async revokeSessions(
    @Args() { actorId }: RevokeSessionsArgs,
    @AuditFrom() from: AuditRequest,
  ): Promise<number> {
    const actor = await this.actors.findById(actorId);
    if (!actor) throw ActorsErrors.notFound();
    return this.sessions.endAll(actor, from);
  }
}
