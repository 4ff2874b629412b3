import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Activity the console charts (issue 10, Overview), counted per minute across the cluster: token
 * validations (`kind` `token`: accepted or refused, per trusted issuer and refusal reason) and password
 * sign-ins (`kind` `login`). Every node adds its counts every few seconds; rows older than a day go.
 * Labels are closed sets (issuer names, fixed reason codes): never a token, a login or an address.
 */
@Entity({ name: 'console_activity' })
@Index('idx_console_activity_minute', ['minute'])
export class ConsoleActivityEntity {
  @PrimaryColumn({ type: 'timestamptz', primaryKeyConstraintName: 'pk_console_activity' })
  minute: Date;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_console_activity' })
  kind: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_console_activity' })
  issuer: string;

  /** `ACCEPTED` or `REFUSED`. */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_console_activity' })
  outcome: string;

  /** Why it was refused ('' when accepted). */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_console_activity' })
  reason: string;

  @Column({ type: 'integer' })
  count: number;
}
