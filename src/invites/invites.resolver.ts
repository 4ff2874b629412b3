import { AuditFrom, type AuditRequest } from 'src/audit/audit-context';
import { Args, ID, Mutation, Resolver } from '@nestjs/graphql';
import { type AuthenticatedCaller, CurrentCaller } from 'src/common/auth/caller';
import { InviteInput } from 'src/invites/dto/invite.input';
import { InvitesService } from 'src/invites/invites.service';
import { toInviteAnswer } from 'src/invites/models/invite-answer';
import { ProjectMembership } from 'src/memberships/models/membership.model';

@Resolver(() => ProjectMembership)
export class InvitesResolver {
  constructor(private readonly invites: InvitesService) {}

  @Mutation(() => ProjectMembership, {
    description: 'Invite a person into a project (server ADMIN or an admin of that project)',
  })
  async inviteMember(
    @Args('projectId', { type: () => ID }) projectId: string,
    @Args('input') input: InviteInput,
    @CurrentCaller() caller: AuthenticatedCaller,
    @AuditFrom() from: AuditRequest,
  ): Promise<ProjectMembership> {
    const result = await this.invites.invite(caller, projectId, input, from);
    return toInviteAnswer(result);
  }
}
