import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { BrowserSessionEntity } from 'src/browser-sessions/browser-session.entity';

/**
 * A browser session that came through an SSO provider: which one, and its ID token (encrypted, for the
 * `id_token_hint` of the upstream sign-out).
 */
@Entity({ name: 'sso_sessions' })
export class SsoSessionEntity {
  @PrimaryColumn({
    name: 'browser_session_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_sso_sessions',
  })
  browserSessionId: string;

  @ManyToOne(() => BrowserSessionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'browser_session_id', foreignKeyConstraintName: 'fk_sso_sessions_session' })
  session?: BrowserSessionEntity;

  @Column({ name: 'provider_id', type: 'text' })
  providerId: string;

  @Column({ name: 'id_token_enc', type: 'text', nullable: true })
  idTokenEnc: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
