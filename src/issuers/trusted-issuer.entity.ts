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
import type { Provisioning } from 'src/config/config.types';

/**
 * A trusted issuer added through the admin API (issue 4 §4). Configuration issuers are not stored here.
 * Every field of `TrustedIssuerConfig`; `revision` grows with every update so cached verdicts of the old
 * settings are never reused.
 */
@Entity({ name: 'trusted_issuers' })
@Unique('uq_trusted_issuers_name', ['name'])
@Unique('uq_trusted_issuers_iss', ['issuer'])
// At most one issuer accepts opaque tokens (they name no issuer): enforced across nodes here too.
@Index('uq_trusted_issuers_opaque', ['opaque'], { unique: true, where: '"opaque"' })
@Check('ck_trusted_issuers_provisioning', `"provisioning" IN ('jit', 'existing')`)
@Check('ck_trusted_issuers_endpoint', `"jwks_url" IS NOT NULL OR "userinfo_url" IS NOT NULL`)
export class TrustedIssuerEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_trusted_issuers' })
  id: string;

  @Column({ type: 'text' })
  name: string;

  /** The exact `iss` value. */
  @Column({ name: 'iss', type: 'text' })
  issuer: string;

  @Column({ name: 'jwks_url', type: 'text', nullable: true })
  jwksUrl: string | null;

  @Column({ name: 'userinfo_url', type: 'text', nullable: true })
  userinfoUrl: string | null;

  @Column({ type: 'boolean', default: false })
  opaque: boolean;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  audiences: string[];

  @Column({ name: 'audiences_required', type: 'boolean' })
  audiencesRequired: boolean;

  @Column({ type: 'text', array: true })
  algorithms: string[];

  @Column({ name: 'clock_tolerance_seconds', type: 'integer' })
  clockToleranceSeconds: number;

  @Column({ name: 'max_token_age_seconds', type: 'integer', nullable: true })
  maxTokenAgeSeconds: number | null;

  @Column({ type: 'text' })
  provisioning: Provisioning;

  @Column({ name: 'fhir_base', type: 'text', nullable: true })
  fhirBase: string | null;

  @Column({ name: 'userinfo_credentials', type: 'boolean', default: false })
  userinfoCredentials: boolean;

  @Column({ name: 'email_matching', type: 'boolean', default: false })
  emailMatching: boolean;

  @Column({ type: 'integer', default: 1 })
  revision: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
