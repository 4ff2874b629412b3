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
import { ActorEntity } from 'src/actors/actor.entity';

/**
 * A server-side browser session (issue 9 §3). The cookie carries a random secret; only its SHA-256 is
 * stored. `id` is public (the OIDC `sid`), never enough to act as the session.
 */
@Entity({ name: 'browser_sessions' })
@Unique('uq_browser_sessions_secret', ['secretSha256'])
@Index('idx_browser_sessions_actor', ['actorId'])
@Index('idx_browser_sessions_expires_at', ['expiresAt'])
export class BrowserSessionEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_browser_sessions' })
  id: string;

  @Column({ name: 'secret_sha256', type: 'text' })
  secretSha256: string;

  @Column({ name: 'actor_id', type: 'uuid' })
  actorId: string;

  @ManyToOne(() => ActorEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'actor_id', foreignKeyConstraintName: 'fk_browser_sessions_actor' })
  actor?: ActorEntity;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  amr: string[];

  @Column({ name: 'auth_time', type: 'timestamptz' })
  authTime: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Written at most once a minute: the idle lifetime counts from here. */
  @Column({ name: 'last_used_at', type: 'timestamptz', default: () => 'now()' })
  lastUsedAt: Date;

  /** The absolute end of the session. */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt: Date | null;

  /** The browser's `User-Agent` when it signed in (bounded), to tell a person's sessions apart. */
  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent: string | null;
}
