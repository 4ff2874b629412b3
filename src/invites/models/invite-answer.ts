import type { InviteResult } from 'src/invites/invites.service';
import { type ProjectMembership, toMembershipModel } from 'src/memberships/models/membership.model';

/** The answer to an invite, the same over REST and GraphQL: the membership, the email, the ways in. */
export function toInviteAnswer(result: InviteResult): ProjectMembership {
  return {
    ...toMembershipModel(result.membership),
    inviteEmailSent: result.emailSent,
    setPasswordLink: result.setPasswordLink ?? null,
    recognisedBy: result.recognisedBy,
  };
}
