import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A sign-in (or an upstream sign-out) in flight at an SSO provider: single use, short-lived, on any node
 * (PostgreSQL, so it works with Redis stopped). Keyed by the SHA-256 of a secret only the browser holds
 * (login: the `bk_sso` cookie; logout: the `state` sent upstream).
 */
@Entity({ name: 'sso_pending' })
@Index('idx_sso_pending_expires_at', ['expiresAt'])
export class SsoPendingEntity {
  @PrimaryColumn({ name: 'key_sha256', type: 'text', primaryKeyConstraintName: 'pk_sso_pending' })
  keySha256: string;

  @Column({ type: 'text' })
  kind: 'login' | 'logout';

  @Column({ name: 'provider_id', type: 'text' })
  providerId: string;

  @Column({ type: 'text', nullable: true })
  state: string | null;

  @Column({ type: 'text', nullable: true })
  nonce: string | null;

  /** The PKCE verifier, encrypted with the secrets key. */
  @Column({ name: 'code_verifier_enc', type: 'text', nullable: true })
  codeVerifierEnc: string | null;

  /** Login: our pending `/oauth2/authorize?…`; logout: the client's post-logout URI. */
  @Column({ name: 'return_to', type: 'text', nullable: true })
  returnTo: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
