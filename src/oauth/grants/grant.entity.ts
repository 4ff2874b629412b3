import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A grant (a session): what a user authorised a client to do, from which refresh tokens and access
 * tokens are issued. Revoking it ends all of them (issue 4 §2-3).
 */
@Entity({ name: 'oauth_grants' })
@Index('idx_oauth_grants_actor', ['actorId'])
export class GrantEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_oauth_grants' })
  id: string;

  @Column({ name: 'client_id', type: 'text' })
  clientId: string;

  @Column({ name: 'actor_id', type: 'uuid' })
  actorId: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  scope: string[];

  @Column({ name: 'membership_id', type: 'uuid', nullable: true })
  membershipId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** No token of the grant outlives this (its refresh lifetime, or an exchanged subject token's exp). */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /** Why it ended: logout, revoked, refresh_reuse, admin. */
  @Column({ name: 'revoked_reason', type: 'text', nullable: true })
  revokedReason: string | null;
}
