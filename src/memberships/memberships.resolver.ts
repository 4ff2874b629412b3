import { AuditFrom, type AuditRequest } from 'src/audit/audit-context';
import { Args, ID, Mutation, Resolver } from '@nestjs/graphql';
import { type AuthenticatedCaller, CurrentCaller } from 'src/common/auth/caller';
import { MembershipsService } from 'src/memberships/memberships.service';
import { ProjectMembership, toMembershipModel } from 'src/memberships/models/membership.model';

@Resolver(() => ProjectMembership)
export class MembershipsResolver {
  constructor(private readonly memberships: MembershipsService) {}

  @Mutation(() => ProjectMembership, {
    description: 'Activate or deactivate a membership (server ADMIN or an admin of its project)',
  })
  async setMembershipActive(
    @Args('id', { type: () => ID }) id: string,
    @Args('active') active: boolean,
    @CurrentCaller() caller: AuthenticatedCaller,
    @AuditFrom() from: AuditRequest,
  ): Promise<ProjectMembership> {
    return toMembershipModel(await this.memberships.setActive(caller, id, active, from));
  }

  @Mutation(() => ProjectMembership, {
    description: 'Remove a membership and its profile (server ADMIN or an admin of its project)',
  })
  async removeMembership(
    @Args('id', { type: () => ID }) id: string,
    @CurrentCaller() caller: AuthenticatedCaller,
    @AuditFrom() from: AuditRequest,
  ): Promise<ProjectMembership> {
    return toMembershipModel(await this.memberships.remove(caller, id, from));
  }
}
