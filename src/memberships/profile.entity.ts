import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { ProjectEntity } from 'src/projects/project.entity';
import type { ProfileResourceType } from 'src/memberships/fhir-user';

export interface ProfileIdentifier {
  system?: string;
  value: string;
}

/** A person's record in a project (a FHIR Practitioner, Patient or RelatedPerson). */
@Entity({ name: 'profiles' })
@Index('idx_profiles_project', ['projectId'])
// GIN (jsonb_path_ops) index on identifiers, created by the migration: TypeORM cannot describe it.
@Index('idx_profiles_identifiers', { synchronize: false })
@Check(
  'ck_profiles_resource_type',
  `"resource_type" IN ('Practitioner', 'Patient', 'RelatedPerson')`,
)
export class ProfileEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_profiles' })
  id: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @ManyToOne(() => ProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id', foreignKeyConstraintName: 'fk_profiles_project' })
  project?: ProjectEntity;

  @Column({ name: 'resource_type', type: 'text' })
  resourceType: ProfileResourceType;

  @Column({ name: 'given_name', type: 'text' })
  givenName: string;

  @Column({ name: 'family_name', type: 'text' })
  familyName: string;

  @Column({ type: 'text', nullable: true })
  email: string | null;

  /** `[{system?, value}]`: what `fhirUser` identifier searches match (GIN index, jsonb_path_ops). */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  identifiers: ProfileIdentifier[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
