import { AuditFrom, type AuditRequest } from 'src/audit/audit-context';
import { Body, Controller, Header, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { type AuthenticatedCaller, CurrentCaller } from 'src/common/auth/caller';
import { InviteInput } from 'src/invites/dto/invite.input';
import { InvitesService } from 'src/invites/invites.service';
import { toInviteAnswer } from 'src/invites/models/invite-answer';
import type { ProjectMembership } from 'src/memberships/models/membership.model';

/** REST invites: 201 with the new membership, 200 for an upsert of the same person. */
@Controller('admin/projects')
export class InvitesController {
  constructor(private readonly invites: InvitesService) {}

  @Post(':projectId/invite')
  // The answer may carry a one-time set-password link.
  @Header('Cache-Control', 'no-store')
  async invite(
    @Param('projectId') projectId: string,
    @Body() input: InviteInput,
    @CurrentCaller() caller: AuthenticatedCaller,
    @AuditFrom() from: AuditRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ProjectMembership> {
    const result = await this.invites.invite(caller, projectId, input, from);
    void reply.status(result.created ? 201 : 200);
    return toInviteAnswer(result);
  }
}
