import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const REVOCATION_KINDS = ['token', 'grant', 'actor', 'client', 'browser_session'] as const;
export type RevocationKind = (typeof REVOCATION_KINDS)[number];

/**
 * One revocation of Bridgekeeper-issued tokens (issue 4 §3), kept until every token it can refer to
 * has expired: a token (`jti`), a grant (`sid`: its access and refresh tokens), or every token issued
 * to an actor (`sub`) or a client (`client_id`) up to `revoked_at`, or one browser session (its public id).
 */
@Entity({ name: 'revocations' })
@Index('idx_revocations_revoked_at', ['revokedAt'])
@Index('idx_revocations_expires_at', ['expiresAt'])
@Check('ck_revocations_kind', `"kind" IN ('token', 'grant', 'actor', 'client', 'browser_session')`)
export class RevocationEntity {
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    primaryKeyConstraintName: 'pk_revocations',
  })
  id: string;

  @Column({ type: 'text' })
  kind: RevocationKind;

  @Column({ type: 'text' })
  value: string;

  @Column({ name: 'revoked_at', type: 'timestamptz', default: () => 'now()' })
  revokedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
