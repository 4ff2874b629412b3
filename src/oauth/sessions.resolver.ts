import { Args, Int, Mutation, Resolver } from '@nestjs/graphql';
import { ActorsErrors } from 'src/actors/actors.errors';
import { ActorsService, CLIENT_PRINCIPAL_NAMESPACE } from 'src/actors/actors.service';
import { BrowserSessionsService } from 'src/browser-sessions/browser-sessions.service';
import { ADMIN_ROLE, RequireRoles } from 'src/common/decorators/roles.decorator';
import { RevokeSessionsArgs } from 'src/oauth/dto/revoke-sessions.args';
import { GrantsService } from 'src/oauth/grants/grants.service';

@Resolver()
@RequireRoles(ADMIN_ROLE)
export class SessionsResolver {
  constructor(
    private readonly grants: GrantsService,
    private readonly actors: ActorsService,
    private readonly browserSessions: BrowserSessionsService,
  ) {}

  @Mutation(() => Int, {
    description:
      'End every Bridgekeeper session of an actor: its grants and refresh tokens now, its access tokens and browser sessions on every node within a second. Returns how many grants were open (ADMIN)',
  })
  async revokeSessions(@Args() { actorId }: RevokeSessionsArgs): Promise<number> {
    const actor = await this.actors.findById(actorId);
    if (!actor) throw ActorsErrors.notFound();
    const grants = await this.grants.revokeActorSessions(
      actor.id,
      actor.issuerName === CLIENT_PRINCIPAL_NAMESPACE ? actor.subject : undefined,
    );
    await this.browserSessions.endAllForActor(actor.id);
    return grants;
  }
}
