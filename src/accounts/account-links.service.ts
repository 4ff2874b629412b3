import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AccountsErrors } from 'src/accounts/accounts.errors';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import type { LinkPurpose } from 'src/accounts/one-time-link.entity';
import { OneTimeLinksService } from 'src/accounts/one-time-links.service';
import { dbCall } from 'src/common/errors/db-errors';
import { MembershipEntity } from 'src/memberships/membership.entity';
import { MembershipsService } from 'src/memberships/memberships.service';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { MailService } from 'src/mail/mail.service';

/** The page a set-password or reset link opens. */
export const SET_PASSWORD_PATH = '/login/set-password';

/** What a set-password page shows before the password is chosen. */
export interface PendingLink {
  purpose: 'SET_PASSWORD' | 'RESET';
  /** The email or username the account will sign in with. */
  login: string | null;
  displayName: string | null;
}

export interface ResetLinkResult {
  emailSent: boolean;
  /** Only when no email could be sent: the admin hands it over (shown once). */
  link?: string;
  expiresAt: Date;
}

/** Set-password links for invites and password-reset links for local accounts (issue 9 §1). */
@Injectable()
export class AccountLinksService {
  constructor(
    private readonly links: OneTimeLinksService,
    private readonly accounts: LocalAccountsService,
    private readonly mail: MailService,
    private readonly memberships: MembershipsService,
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * A one-time link that lets the invited person of this membership create their account; earlier
   * unused ones of the same membership stop working (an invite repeated replaces its link).
   */
  async setPasswordLink(membershipId: string): Promise<string> {
    await this.links.voidUnused('SET_PASSWORD', { membershipId });
    const { secret } = await this.links.create(
      'SET_PASSWORD',
      { membershipId },
      this.config.auth.linkTtlSeconds,
    );
    this.logger.info(
      { event: 'account.set_password_link', membershipId },
      'set-password link created',
    );
    return this.url(secret);
  }

  /**
   * A new password-reset link for the local account of an actor (earlier unused ones stop working),
   * emailed to the account's address when email is configured.
   */
  async sendPasswordReset(actorId: string): Promise<ResetLinkResult> {
    const account = await this.accounts.findByActorId(actorId);
    if (!account) throw AccountsErrors.notFound();
    await this.links.voidUnused('RESET', { accountId: account.id });
    const { secret, expiresAt } = await this.links.create(
      'RESET',
      { accountId: account.id },
      this.config.auth.linkTtlSeconds,
    );
    const link = this.url(secret);
    const emailSent = account.email
      ? await this.mail.sendPasswordReset({
          to: account.email,
          name: account.displayName ?? account.username ?? account.email,
          link,
          hours: Math.round(this.config.auth.linkTtlSeconds / 3600),
        })
      : false;
    this.logger.info(
      { event: 'account.reset_link', actorId, emailSent },
      'password-reset link created',
    );
    return emailSent ? { emailSent, expiresAt } : { emailSent, link, expiresAt };
  }

  /** The usable set-password or reset link behind this secret, or null. */
  async pending(secret: string): Promise<PendingLink | null> {
    const link = await this.links.peek(['SET_PASSWORD', 'RESET'], secret);
    if (!link) return null;
    if (link.purpose === 'RESET') {
      const account = link.accountId ? await this.accounts.findById(link.accountId) : null;
      if (!account) return null;
      return {
        purpose: 'RESET',
        login: account.username ?? account.email,
        displayName: account.displayName,
      };
    }
    const m = link.membershipId ? await this.invitedMembership(link.membershipId) : null;
    if (!m) return null;
    return {
      purpose: 'SET_PASSWORD',
      login: m.email,
      displayName: m.profile ? `${m.profile.givenName} ${m.profile.familyName}`.trim() : null,
    };
  }

  /**
   * Uses the link (once) and sets the password: a reset changes the account's password; an invite's
   * link creates the local account (its email from the invite) and binds the membership to its actor,
   * in one transaction. Returns the actor, or null when the link is not (or no longer) usable.
   */
  async complete(
    secret: string,
    input: { password: string; displayName?: string },
  ): Promise<{ actorId: string; purpose: LinkPurpose } | null> {
    const pending = await this.links.peek(['SET_PASSWORD', 'RESET'], secret);
    if (!pending) return null;
    const purpose = pending.purpose;
    const result = await dbCall(() =>
      this.dataSource.transaction(async (tx) => {
        const link = await this.links.consume(tx, purpose, secret);
        if (!link) return null;
        if (purpose === 'RESET') {
          if (!link.accountId) return null;
          return this.accounts.setPassword(tx, link.accountId, input.password);
        }
        const m = link.membershipId
          ? await tx.getRepository(MembershipEntity).findOne({
              where: { id: link.membershipId },
              relations: { profile: true },
            })
          : null;
        if (!m || !m.active || m.actorId !== null || !m.email) return null;
        const ref = await this.accounts.create(
          {
            email: m.email,
            displayName:
              input.displayName ??
              (m.profile ? `${m.profile.givenName} ${m.profile.familyName}` : null),
            password: input.password,
          },
          tx,
        );
        const bound = await tx
          .createQueryBuilder()
          .update(MembershipEntity)
          .set({ actorId: ref.actorId })
          .where('id = :id AND actor_id IS NULL', { id: m.id })
          .execute();
        if (bound.affected !== 1) throw AccountsErrors.linkInvalid();
        return ref;
      }),
    );
    if (!result) return null;
    if (purpose === 'SET_PASSWORD') await this.memberships.changed();
    this.logger.info(
      {
        event: purpose === 'RESET' ? 'account.password_reset' : 'account.created_from_invite',
        actorId: result.actorId,
      },
      'password set',
    );
    return { actorId: result.actorId, purpose };
  }

  private async invitedMembership(id: string): Promise<MembershipEntity | null> {
    const m = await this.memberships.get(id).catch(() => null);
    return m && m.active && m.actorId === null && m.email ? m : null;
  }

  private url(secret: string): string {
    return `${this.config.publicUrl}${SET_PASSWORD_PATH}?token=${secret}`;
  }
}
