import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  Unique,
  UpdateDateColumn,
} from 'typeorm';

export type ActorStatus = 'ACTIVE' | 'DISABLED';

/** A caller known by (trusted issuer name, external subject). */
@Entity({ name: 'actors' })
@Unique('uq_actors_issuer_subject', ['issuerName', 'subject'])
@Index('idx_actors_created_at_id', ['createdAt', 'id'])
@Check('ck_actors_status', `"status" IN ('ACTIVE', 'DISABLED')`)
export class ActorEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_actors' })
  id: string;

  @Column({ name: 'issuer_name', type: 'text' })
  issuerName: string;

  @Column({ type: 'text' })
  subject: string;

  @Column({ type: 'text', nullable: true })
  email: string | null;

  @Column({ name: 'email_verified', type: 'boolean', nullable: true })
  emailVerified: boolean | null;

  @Column({ type: 'text', nullable: true })
  name: string | null;

  @Column({ name: 'given_name', type: 'text', nullable: true })
  givenName: string | null;

  @Column({ name: 'family_name', type: 'text', nullable: true })
  familyName: string | null;

  @Column({ name: 'preferred_username', type: 'text', nullable: true })
  preferredUsername: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  roles: string[];

  @Column({ type: 'text', default: 'ACTIVE' })
  status: ActorStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true })
  lastSeenAt: Date | null;
}
