import type { ResourceKind } from 'src/token-validation/oauth-resources';
import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { ActorEntity } from 'src/actors/actor.entity';
import { ClientEntity } from 'src/clients/client.entity';
import { MembershipEntity } from 'src/memberships/membership.entity';

/**
 * A grant (a session): what a user authorised a client to do, from which refresh tokens and access
 * tokens are issued. Revoking it ends all of them (issue 4 §2-3).
 */
@Entity({ name: 'oauth_grants' })
@Check('ck_oauth_grants_resource', `"resource" IN ('api', 'mcp')`)
@Index('idx_oauth_grants_actor', ['actorId'])
@Index('idx_oauth_grants_expires_at', ['expiresAt'])
@Index('idx_oauth_grants_browser_session', ['browserSessionId'])
export class GrantEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_oauth_grants' })
  id: string;

  @Column({ name: 'client_id', type: 'text' })
  clientId: string;

  @ManyToOne(() => ClientEntity, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'client_id',
    referencedColumnName: 'clientId',
    foreignKeyConstraintName: 'fk_oauth_grants_client',
  })
  client?: ClientEntity;

  @Column({ name: 'actor_id', type: 'uuid' })
  actorId: string;

  @ManyToOne(() => ActorEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'actor_id', foreignKeyConstraintName: 'fk_oauth_grants_actor' })
  actor?: ActorEntity;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  scope: string[];

  /** RFC 8707: the resource its tokens are for (their `aud`): `api` or `mcp`. */
  @Column({ type: 'text', default: 'api' })
  resource: ResourceKind;

  @Column({ name: 'membership_id', type: 'uuid', nullable: true })
  membershipId: string | null;

  @ManyToOne(() => MembershipEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'membership_id', foreignKeyConstraintName: 'fk_oauth_grants_membership' })
  membership?: MembershipEntity;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** No token of the grant outlives this (its refresh lifetime, or an exchanged subject token's exp). */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  /** The browser session (public id) the grant was made in, for a grant of the code flow. */
  @Column({ name: 'browser_session_id', type: 'text', nullable: true })
  browserSessionId: string | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /** Why it ended: logout, revoked, refresh_reuse, admin. */
  @Column({ name: 'revoked_reason', type: 'text', nullable: true })
  revokedReason: string | null;
}
