import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type AuditOutcome = 'SUCCESS' | 'FAILURE';

/**
 * One audit event (issue 13 §4): an admin mutation, written in the transaction of the change, or a
 * security event (sign-ins, client authentication failures, token exchanges...). Who (`actor_id`, the
 * `client_id` of the token used, the `act` chain of an on-behalf-of call), what (`action`, `target_*`,
 * `outcome`), from where (`client_address`, `request_id`) and when. Never a token, secret or password:
 * `details` holds only fixed reasons and identifiers.
 */
@Entity({ name: 'audit_events' })
@Index('idx_audit_events_created', ['createdAt', 'id'])
@Index('idx_audit_events_actor', ['actorId', 'createdAt'])
@Index('idx_audit_events_target', ['targetId', 'createdAt'])
@Index('idx_audit_events_project', ['projectId', 'createdAt'])
@Index('idx_audit_events_action', ['action', 'createdAt'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_audit_events' })
  id: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** e.g. `actor.disable`, `client.secret.rotate`, `login.failure`. */
  @Column({ type: 'text' })
  action: string;

  @Column({ type: 'text' })
  outcome: AuditOutcome;

  /** The actor who acted (the authenticated caller, or the person signing in). */
  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  /** The OAuth client: of the caller's token, or the one authenticating. */
  @Column({ name: 'client_id', type: 'text', nullable: true })
  clientId: string | null;

  /** RFC 8693 `act` chain, outermost first: who really called on the actor's behalf. */
  @Column({ type: 'jsonb', nullable: true })
  act: { sub: string; client_id?: string }[] | null;

  @Column({ name: 'target_type', type: 'text', nullable: true })
  targetType: string | null;

  @Column({ name: 'target_id', type: 'text', nullable: true })
  targetId: string | null;

  /** The project the event belongs to (project admins see these). */
  @Column({ name: 'project_id', type: 'uuid', nullable: true })
  projectId: string | null;

  @Column({ name: 'client_address', type: 'text', nullable: true })
  clientAddress: string | null;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  details: Record<string, string | number | boolean | null> | null;
}
