import { Inject, Injectable } from '@nestjs/common';
import { AccountLinksService } from 'src/accounts/account-links.service';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuthenticatedCaller } from 'src/common/auth/caller';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { dbCall, uniqueViolation } from 'src/common/errors/db-errors';
import type { InviteInput } from 'src/invites/dto/invite.input';
import { InvitesErrors } from 'src/invites/invites.errors';
import { MembershipEntity } from 'src/memberships/membership.entity';
import { MailService } from 'src/mail/mail.service';
import { MembershipsService } from 'src/memberships/memberships.service';
import { ProfileEntity, type ProfileIdentifier } from 'src/memberships/profile.entity';
import { ProjectsService } from 'src/projects/projects.service';

export interface InviteResult {
  membership: MembershipEntity;
  /** A new membership (201), or an existing one (200, upsert). */
  created: boolean;
  emailSent: boolean;
}

/**
 * Invites a person into a project ahead of their first sign-in (issue 3 §4): the profile and the
 * membership are written in one transaction, so a failure leaves neither; the database's unique
 * constraints decide races (50 concurrent invites of one externalId: one succeeds, the rest are 409).
 */
@Injectable()
export class InvitesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly memberships: MembershipsService,
    private readonly projects: ProjectsService,
    private readonly mail: MailService,
    private readonly accountLinks: AccountLinksService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async invite(
    caller: AuthenticatedCaller,
    projectId: string,
    input: InviteInput,
  ): Promise<InviteResult> {
    await this.memberships.assertCanManage(caller, projectId);
    const email = input.email?.trim().toLowerCase();
    const externalId = input.externalId;
    if (!email && !externalId)
      throw InvitesErrors.invalid('one of email or externalId is required');
    const issuerName = externalId ? this.issuerFor(input.issuer) : null;
    const identifiers: ProfileIdentifier[] = (input.identifiers ?? []).map((i) =>
      i.system === undefined ? { value: i.value } : { system: i.system, value: i.value },
    );
    try {
      const result = await dbCall(() =>
        this.dataSource.transaction((tx) =>
          this.write(tx, projectId, input, { email, externalId, issuerName, identifiers }),
        ),
      );
      await this.memberships.changed();
      // After the commit: the invite stands whether or not the email goes out, and says which.
      const emailSent =
        input.sendEmail === true && !!email
          ? await this.mail.sendInvite({
              to: email,
              name: `${input.firstName} ${input.lastName}`,
              project: (await this.projects.get(projectId)).name,
              ...(await this.setPasswordLink(result.membership)),
            })
          : false;
      return { ...result, emailSent };
    } catch (err) {
      const constraint = uniqueViolation(err);
      if (constraint === 'uq_memberships_project_issuer_external')
        throw InvitesErrors.alreadyMember('externalId');
      if (constraint === 'uq_memberships_project_email') throw InvitesErrors.alreadyMember('email');
      throw err;
    }
  }

  /**
   * An invite by email alone (no `externalId`: the person has no trusted-issuer identity) of someone not
   * yet signed in links to a one-time set-password page that creates their local account; an invite
   * with an `externalId` keeps the configured sign-in URL.
   */
  private async setPasswordLink(m: MembershipEntity): Promise<{ link?: string }> {
    if (m.externalId || m.actorId || !this.mail.enabled) return {};
    return { link: await this.accountLinks.setPasswordLink(m.id) };
  }

  private issuerFor(requested: string | undefined): string {
    const names = this.config.issuers.map((i) => i.name);
    if (requested !== undefined) {
      if (!names.includes(requested)) throw InvitesErrors.invalid('issuer is not a trusted issuer');
      return requested;
    }
    if (names.length === 1) return names[0];
    throw InvitesErrors.invalid(
      names.length === 0
        ? 'externalId needs a trusted issuer, and none is configured'
        : 'issuer is required with externalId when more than one issuer is trusted',
    );
  }

  private async write(
    tx: EntityManager,
    projectId: string,
    input: InviteInput,
    v: {
      email?: string;
      externalId?: string;
      issuerName: string | null;
      identifiers: ProfileIdentifier[];
    },
  ): Promise<Omit<InviteResult, 'emailSent'>> {
    const repo = tx.getRepository(MembershipEntity);
    const byExternal = v.externalId
      ? await repo.findOne({
          where: { projectId, issuerName: v.issuerName!, externalId: v.externalId },
          relations: { profile: true },
        })
      : null;
    const byEmail = v.email
      ? await repo.findOne({ where: { projectId, email: v.email }, relations: { profile: true } })
      : null;
    const existing = byExternal ?? byEmail;
    if (existing) {
      if (!input.upsert) throw InvitesErrors.alreadyMember(byExternal ? 'externalId' : 'email');
      // The same person only: both keys must agree with what is stored.
      if (byExternal && byEmail && byExternal.id !== byEmail.id)
        throw InvitesErrors.alreadyMember('email');
      if (v.email && existing.email && existing.email !== v.email)
        throw InvitesErrors.alreadyMember('externalId');
      if (v.externalId && existing.externalId && existing.externalId !== v.externalId)
        throw InvitesErrors.alreadyMember('email');
      const profile = existing.profile!;
      const profilePatch: Partial<ProfileEntity> = {};
      if (profile.resourceType !== input.resourceType)
        profilePatch.resourceType = input.resourceType;
      if (profile.givenName !== input.firstName) profilePatch.givenName = input.firstName;
      if (profile.familyName !== input.lastName) profilePatch.familyName = input.lastName;
      if (v.email && profile.email !== v.email) profilePatch.email = v.email;
      if (
        input.identifiers &&
        JSON.stringify(profile.identifiers) !== JSON.stringify(v.identifiers)
      )
        profilePatch.identifiers = v.identifiers;
      const patch: Partial<MembershipEntity> = {};
      if (input.admin !== undefined && existing.admin !== input.admin) patch.admin = input.admin;
      if (v.email && !existing.email) patch.email = v.email;
      if (v.externalId && !existing.externalId) {
        patch.externalId = v.externalId;
        patch.issuerName = v.issuerName;
      }
      if (Object.keys(profilePatch).length > 0)
        await tx.getRepository(ProfileEntity).update({ id: profile.id }, profilePatch);
      if (Object.keys(patch).length > 0) await repo.update({ id: existing.id }, patch);
      const membership = await repo.findOneOrFail({
        where: { id: existing.id },
        relations: { profile: true },
      });
      return { membership, created: false };
    }
    const profile = await tx.getRepository(ProfileEntity).save(
      tx.getRepository(ProfileEntity).create({
        projectId,
        resourceType: input.resourceType,
        givenName: input.firstName,
        familyName: input.lastName,
        email: v.email ?? null,
        identifiers: v.identifiers,
      }),
    );
    const saved = await repo.save(
      repo.create({
        projectId,
        profileId: profile.id,
        issuerName: v.issuerName,
        externalId: v.externalId ?? null,
        email: v.email ?? null,
        admin: input.admin ?? false,
        active: true,
      }),
    );
    return { membership: { ...saved, profile }, created: true };
  }
}
