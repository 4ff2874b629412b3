import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  Unique,
  UpdateDateColumn,
} from 'typeorm';
import type { SsoCustomClaimMapping } from 'src/config/config.types';

/**
 * An SSO provider added at runtime by an admin (issue 9 §4). The client secret is stored encrypted with
 * the secrets key (`client_secret_enc`), never returned.
 */
@Entity({ name: 'sso_providers' })
@Unique('uq_sso_providers_name', ['name'])
export class SsoProviderEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_sso_providers' })
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'display_name', type: 'text' })
  displayName: string;

  @Column({ type: 'text' })
  authority: string;

  @Column({ name: 'client_id', type: 'text' })
  clientId: string;

  @Column({ name: 'client_secret_enc', type: 'text', nullable: true })
  clientSecretEnc: string | null;

  @Column({ type: 'text', array: true })
  scopes: string[];

  @Column({ name: 'claim_email', type: 'text' })
  claimEmail: string;

  @Column({ name: 'claim_first_name', type: 'text' })
  claimFirstName: string;

  @Column({ name: 'claim_last_name', type: 'text', nullable: true })
  claimLastName: string | null;

  @Column({ name: 'custom_claims', type: 'jsonb', default: () => "'[]'" })
  customClaims: SsoCustomClaimMapping[];

  @Column({ name: 'forward_params', type: 'text', array: true, default: () => "'{}'" })
  forwardParams: string[];

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
