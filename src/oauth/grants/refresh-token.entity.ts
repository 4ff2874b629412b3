import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { GrantEntity } from 'src/oauth/grants/grant.entity';

/** One refresh token of a grant, stored only as its SHA-256. Used once: each use rotates it. */
@Entity({ name: 'oauth_refresh_tokens' })
@Unique('uq_oauth_refresh_tokens_hash', ['tokenHash'])
@Index('idx_oauth_refresh_tokens_grant', ['grantId'])
export class RefreshTokenEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_oauth_refresh_tokens' })
  id: string;

  @Column({ name: 'grant_id', type: 'uuid' })
  grantId: string;

  @ManyToOne(() => GrantEntity, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'grant_id',
    foreignKeyConstraintName: 'fk_oauth_refresh_tokens_grant',
  })
  grant?: GrantEntity;

  @Column({ name: 'token_hash', type: 'text' })
  tokenHash: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt: Date | null;
}
