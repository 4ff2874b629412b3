import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import type { JWK } from 'jose';

export type SigningKeyStatus = 'ACTIVE' | 'NEXT' | 'RETIRED';
export type SigningKeyAlgorithm = 'ES256' | 'RS256';

/**
 * One of Bridgekeeper's own token signing keys. The private half is stored only encrypted
 * (SecretsService, associated data bound to the kid). At most one key is ACTIVE (signs) and at most one
 * is NEXT (published and accepted, never signs, until a rotation promotes it); RETIRED keys stay published
 * until `publish_until`.
 */
@Entity({ name: 'signing_keys' })
@Unique('uq_signing_keys_kid', ['kid'])
@Index('uq_signing_keys_active', ['status'], { unique: true, where: `"status" = 'ACTIVE'` })
@Index('uq_signing_keys_next', ['status'], { unique: true, where: `"status" = 'NEXT'` })
@Check('ck_signing_keys_alg', `"alg" IN ('ES256', 'RS256')`)
@Check('ck_signing_keys_status', `"status" IN ('ACTIVE', 'NEXT', 'RETIRED')`)
export class SigningKeyEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_signing_keys' })
  id: string;

  /** Random (not derived from the key), base64url. */
  @Column({ type: 'text' })
  kid: string;

  @Column({ type: 'text' })
  alg: SigningKeyAlgorithm;

  /** The public JWK as published (kty, crv/x/y or n/e, kid, alg, use). */
  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk: JWK;

  /** The private JWK, encrypted: `v1.<iv>.<tag>.<ciphertext>`. */
  @Column({ name: 'private_key_encrypted', type: 'text' })
  privateKeyEncrypted: string;

  @Column({ type: 'text' })
  status: SigningKeyStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** When it became ACTIVE (scheduled rotation counts from here); null while NEXT. */
  @Column({ name: 'activated_at', type: 'timestamptz', nullable: true })
  activatedAt: Date | null;

  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt: Date | null;

  /** A retired key is published and accepted until then (tokens it signed must still verify). */
  @Column({ name: 'publish_until', type: 'timestamptz', nullable: true })
  publishUntil: Date | null;
}
