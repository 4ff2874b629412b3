import type { AuditRequest } from 'src/audit/audit-context';
import { Injectable } from '@nestjs/common';
import { AccountLinksService } from 'src/accounts/account-links.service';
import type { AuthenticatedCaller } from 'src/common/auth/caller';
import type { InviteInput } from 'src/invites/dto/invite.input';
import { InvitesErrors } from 'src/invites/invites.errors';
import { IssuersService } from 'src/issuers/issuers.service';
import { MailService } from 'src/mail/mail.service';
import { recognitionOf } from 'src/memberships/member-recognition';
import type { MembershipEntity } from 'src/memberships/membership.entity';
import { MembershipsService } from 'src/memberships/memberships.service';
import type { MemberRecognition } from 'src/memberships/models/membership.model';
import { ProjectsService } from 'src/projects/projects.service';

export interface InviteResult {
  membership: MembershipEntity;
  /** A new membership (201), or an existing one (200, upsert). */
  created: boolean;
  emailSent: boolean;
  /**
   * The one-time set-password link of an invite by email alone, only when no email carried it (email
   * not configured, not asked for, or sending failed): the inviting admin hands it over privately.
   */
  setPasswordLink?: string;
  /** How the invited person will be recognised, with the trusted issuers as they are now. */
  recognisedBy: MemberRecognition[];
}

/**
 * Invites a person into a project ahead of their first sign-in (issue 3 §4): checks who may invite,
 * which trusted issuer the member is bound to (the issuers the validator trusts, configuration and
 * runtime ones alike), and sends the welcome email. Memberships stores the member.
 */
@Injectable()
export class InvitesService {
  constructor(
    private readonly memberships: MembershipsService,
    private readonly issuers: IssuersService,
    private readonly projects: ProjectsService,
    private readonly mail: MailService,
    private readonly accountLinks: AccountLinksService,
  ) {}

  async invite(
    caller: AuthenticatedCaller,
    projectId: string,
    input: InviteInput,
    from?: AuditRequest,
    /** False where the answer must not carry the link (an agent's tool call): made only to be emailed. */
    { linkInAnswer = true }: { linkInAnswer?: boolean } = {},
  ): Promise<InviteResult> {
    await this.memberships.assertCanManage(caller, projectId);
    const email = input.email?.trim().toLowerCase();
    const externalId = input.externalId;
    if (!email && !externalId)
      throw InvitesErrors.invalid('one of email or externalId is required');
    const { membership, created } = await this.memberships.invite(
      projectId,
      {
        resourceType: input.resourceType,
        givenName: input.firstName,
        familyName: input.lastName,
        email,
        externalId,
        issuerName: this.issuerFor(input.issuer, externalId !== undefined),
        identifiers: input.identifiers?.map((i) =>
          i.system === undefined ? { value: i.value } : { system: i.system, value: i.value },
        ),
        admin: input.admin,
      },
      { upsert: input.upsert === true, from },
    );
    // After the commit: the invite stands whether or not the email goes out, and says which. A person
    // invited by email alone gets a set-password link: in the email, else in the answer to the admin.
    const emailing = input.sendEmail === true && !!email;
    const link =
      needsSetPasswordLink(membership) && (linkInAnswer || (emailing && this.mail.enabled))
        ? await this.accountLinks.setPasswordLink(membership.id)
        : undefined;
    const emailSent = emailing
      ? await this.mail.sendInvite({
          to: email,
          name: `${input.firstName} ${input.lastName}`,
          project: (await this.projects.get(projectId)).name,
          ...(link ? { link } : {}),
        })
      : false;
    const emailMatching = this.issuers
      .all()
      .filter((i) => i.emailMatching)
      .map((i) => i.name);
    return {
      membership,
      created,
      emailSent,
      ...(link && !emailSent && linkInAnswer ? { setPasswordLink: link } : {}),
      recognisedBy: recognitionOf(membership, emailMatching),
    };
  }

  /**
   * The issuer the member is bound to: the one named (it must be trusted now), else with an externalId
   * the only trusted issuer; an invite without externalId or issuer stays unbound (null).
   */
  private issuerFor(requested: string | undefined, hasExternalId: boolean): string | null {
    if (requested !== undefined) {
      if (!this.issuers.findByName(requested))
        throw InvitesErrors.invalid('issuer is not a trusted issuer');
      return requested;
    }
    if (!hasExternalId) return null;
    const trusted = this.issuers.all();
    if (trusted.length === 1) return trusted[0].name;
    throw InvitesErrors.invalid(
      trusted.length === 0
        ? 'externalId needs a trusted issuer, and none is trusted'
        : 'issuer is required with externalId when more than one issuer is trusted',
    );
  }
}

/**
 * An invite by email alone, bound to no trusted issuer (the person has no account elsewhere), of
 * someone not yet signed in leads to a one-time set-password page that creates their local account
 * (issue 9); an invite bound to an issuer keeps the configured sign-in URL.
 */
function needsSetPasswordLink(m: MembershipEntity): boolean {
  return !!m.email && !m.externalId && !m.issuerName && !m.actorId;
}
