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
import { ProfileEntity } from 'src/memberships/profile.entity';
import { ProjectEntity } from 'src/projects/project.entity';

/**
 * A profile's membership of a project: bound to a trusted issuer's subject by `externalId` (unique per
 * issuer and project), linked to the actor the first time it is matched.
 */
@Entity({ name: 'project_memberships' })
@Unique('uq_memberships_project_issuer_external', ['projectId', 'issuerName', 'externalId'])
@Unique('uq_memberships_project_email', ['projectId', 'email'])
@Unique('uq_memberships_profile', ['profileId'])
@Index('idx_memberships_issuer_external', ['issuerName', 'externalId'])
@Index('idx_memberships_actor', ['actorId'])
@Check('ck_memberships_external_issuer', `"external_id" IS NULL OR "issuer_name" IS NOT NULL`)
@Check('ck_memberships_identity', `"external_id" IS NOT NULL OR "email" IS NOT NULL`)
export class MembershipEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_project_memberships' })
  id: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @ManyToOne(() => ProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id', foreignKeyConstraintName: 'fk_memberships_project' })
  project?: ProjectEntity;

  @Column({ name: 'profile_id', type: 'uuid' })
  profileId: string;

  @ManyToOne(() => ProfileEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'profile_id', foreignKeyConstraintName: 'fk_memberships_profile' })
  profile?: ProfileEntity;

  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  @ManyToOne(() => ActorEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'actor_id', foreignKeyConstraintName: 'fk_memberships_actor' })
  actor?: ActorEntity;

  /** Trusted issuer name the `externalId` belongs to. */
  @Column({ name: 'issuer_name', type: 'text', nullable: true })
  issuerName: string | null;

  @Column({ name: 'external_id', type: 'text', nullable: true })
  externalId: string | null;

  /** Invite email, lower-cased. */
  @Column({ type: 'text', nullable: true })
  email: string | null;

  @Column({ type: 'boolean', default: false })
  admin: boolean;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
