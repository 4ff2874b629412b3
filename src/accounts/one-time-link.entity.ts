import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { LocalAccountEntity } from 'src/accounts/local-account.entity';
import { MembershipEntity } from 'src/memberships/membership.entity';

export const LINK_PURPOSES = ['SETUP', 'SET_PASSWORD', 'RESET'] as const;
export type LinkPurpose = (typeof LINK_PURPOSES)[number];

/**
 * A one-time link (setup, set-password from an invite, password reset): only the SHA-256 of its random
 * 256-bit secret is stored; it works once (`used_at`) and until `expires_at`.
 */
@Entity({ name: 'one_time_links' })
@Unique('uq_one_time_links_secret', ['secretSha256'])
@Index('idx_one_time_links_expires_at', ['expiresAt'])
@Check('ck_one_time_links_purpose', `"purpose" IN ('SETUP', 'SET_PASSWORD', 'RESET')`)
export class OneTimeLinkEntity {
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    primaryKeyConstraintName: 'pk_one_time_links',
  })
  id: string;

  @Column({ type: 'text' })
  purpose: LinkPurpose;

  @Column({ name: 'secret_sha256', type: 'text' })
  secretSha256: string;

  /** RESET: the account whose password is set. */
  @Column({ name: 'account_id', type: 'uuid', nullable: true })
  accountId: string | null;

  @ManyToOne(() => LocalAccountEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'account_id', foreignKeyConstraintName: 'fk_one_time_links_account' })
  account?: LocalAccountEntity;

  /** SET_PASSWORD: the invited membership the new account is bound to. */
  @Column({ name: 'membership_id', type: 'uuid', nullable: true })
  membershipId: string | null;

  @ManyToOne(() => MembershipEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'membership_id', foreignKeyConstraintName: 'fk_one_time_links_membership' })
  membership?: MembershipEntity;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
