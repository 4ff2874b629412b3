import type { ResourceKind } from 'src/token-validation/oauth-resources';
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
} from 'typeorm';
import { ActorEntity } from 'src/actors/actor.entity';
import { ClientEntity } from 'src/clients/client.entity';
import { GrantEntity } from 'src/oauth/grants/grant.entity';

/**
 * An authorization code (RFC 6749 §4.1.2), stored only as its SHA-256 so that any node can redeem it:
 * single use, short-lived, bound to its client, redirect URI, PKCE challenge, nonce and browser
 * session. Once redeemed it names the grant it produced, which a replay of the code revokes.
 */
@Entity({ name: 'oauth_authorization_codes' })
@Check('ck_oauth_authorization_codes_resource', `"resource" IN ('api', 'mcp')`)
@Unique('uq_oauth_authorization_codes_hash', ['codeHash'])
@Index('idx_oauth_authorization_codes_expires_at', ['expiresAt'])
export class AuthorizationCodeEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_oauth_authorization_codes' })
  id: string;

  @Column({ name: 'code_hash', type: 'text' })
  codeHash: string;

  @Column({ name: 'client_id', type: 'text' })
  clientId: string;

  @ManyToOne(() => ClientEntity, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'client_id',
    referencedColumnName: 'clientId',
    foreignKeyConstraintName: 'fk_oauth_authorization_codes_client',
  })
  client?: ClientEntity;

  @Column({ name: 'actor_id', type: 'uuid' })
  actorId: string;

  @ManyToOne(() => ActorEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'actor_id', foreignKeyConstraintName: 'fk_oauth_authorization_codes_actor' })
  actor?: ActorEntity;

  /** Exactly as sent to /oauth2/authorize: the token request must repeat it (RFC 6749 §4.1.3). */
  @Column({ name: 'redirect_uri', type: 'text' })
  redirectUri: string;

  /** PKCE S256 challenge (RFC 7636). */
  @Column({ name: 'code_challenge', type: 'text' })
  codeChallenge: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  scope: string[];

  @Column({ type: 'text', nullable: true })
  nonce: string | null;

  /** The public id of the browser session the person authenticated in (the ID token's `sid`). */
  @Column({ name: 'browser_session_id', type: 'text' })
  browserSessionId: string;

  /** When the person authenticated (the ID token's `auth_time`), seconds since the epoch. */
  @Column({
    name: 'auth_time',
    type: 'bigint',
    transformer: { to: (v: number) => v, from: Number },
  })
  authTime: number;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  amr: string[];

  /** RFC 8707: the resource its tokens are for (their `aud`): `api` or `mcp`. */
  @Column({ type: 'text', default: 'api' })
  resource: ResourceKind;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt: Date | null;

  /** The grant the code produced when it was redeemed (revoked if the code is presented again). */
  @Column({ name: 'grant_id', type: 'uuid', nullable: true })
  grantId: string | null;

  @ManyToOne(() => GrantEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'grant_id', foreignKeyConstraintName: 'fk_oauth_authorization_codes_grant' })
  grant?: GrantEntity;
}
