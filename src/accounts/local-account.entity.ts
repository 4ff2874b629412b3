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
  UpdateDateColumn,
} from 'typeorm';
import { ActorEntity } from 'src/actors/actor.entity';

/**
 * A person who signs in with a password (issue 9 §1). Its actor has the built-in issuer
 * (`bridgekeeper`) and this account's id as subject: the username may change, the identity does not.
 * Usernames and emails are unique case-insensitively (expression indexes in the migration).
 */
@Entity({ name: 'local_accounts' })
@Unique('uq_local_accounts_actor', ['actorId'])
@Check('ck_local_accounts_login', '"username" IS NOT NULL OR "email" IS NOT NULL')
@Index('uq_local_accounts_username', { synchronize: false })
@Index('uq_local_accounts_email', { synchronize: false })
export class LocalAccountEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_local_accounts' })
  id: string;

  @Column({ name: 'actor_id', type: 'uuid' })
  actorId: string;

  @ManyToOne(() => ActorEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'actor_id', foreignKeyConstraintName: 'fk_local_accounts_actor' })
  actor?: ActorEntity;

  @Column({ type: 'text', nullable: true })
  username: string | null;

  @Column({ type: 'text', nullable: true })
  email: string | null;

  @Column({ name: 'display_name', type: 'text', nullable: true })
  displayName: string | null;

  /** argon2id PHC string; null until a password is set. Never returned, never logged. */
  @Column({ name: 'password_hash', type: 'text', nullable: true, select: false })
  passwordHash: string | null;

  @Column({ name: 'password_changed_at', type: 'timestamptz', nullable: true })
  passwordChangedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
