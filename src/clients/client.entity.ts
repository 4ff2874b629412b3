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
  UpdateDateColumn,
} from 'typeorm';
import type { ClientJwks } from 'src/clients/client-jwks';
import { ActorEntity } from 'src/actors/actor.entity';
import { ProjectEntity } from 'src/projects/project.entity';

export type ClientStatus = 'ACTIVE' | 'DISABLED';
/** Who registered the client: an admin, or the client itself (RFC 7591 dynamic registration). */
export type ClientRegistration = 'admin' | 'dynamic';
export type SubjectResolution = 'MEMBERSHIP' | 'EMAIL' | 'SUBJECT';
export const CLIENT_GRANT_TYPES = [
  'client_credentials',
  'token_exchange',
  'refresh_token',
  'authorization_code',
  'device_code',
] as const;
export type ClientGrantType = (typeof CLIENT_GRANT_TYPES)[number];
export const TOKEN_ENDPOINT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

/** An OAuth client application registered with Bridgekeeper (issue 4 §2). */
@Entity({ name: 'oauth_clients' })
@Unique('uq_oauth_clients_client_id', ['clientId'])
@Index('idx_oauth_clients_created_at_id', ['createdAt', 'id'])
@Check('ck_oauth_clients_status', `"status" IN ('ACTIVE', 'DISABLED')`)
@Check('ck_oauth_clients_registration', `"registration" IN ('admin', 'dynamic')`)
@Check(
  'ck_oauth_clients_subject_resolution',
  `"subject_resolution" IN ('MEMBERSHIP', 'EMAIL', 'SUBJECT')`,
)
@Check(
  'ck_oauth_clients_token_endpoint_auth_method',
  `"token_endpoint_auth_method" IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')`,
)
export class ClientEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_oauth_clients' })
  id: string;

  /** The public identifier (`client_id`), random: `bkc_…`. */
  @Column({ name: 'client_id', type: 'text' })
  clientId: string;

  @Column({ type: 'text' })
  name: string;

  /** SHA-256 (hex) of the secret: the secret has 256 bits of entropy, so a fast hash is enough. */
  @Column({ name: 'secret_hash', type: 'text' })
  secretHash: string;

  @Column({ name: 'secret_rotated_at', type: 'timestamptz' })
  secretRotatedAt: Date;

  /** When every token issued to the client so far was revoked (disableClient): older grants are dead. */
  @Column({ name: 'tokens_revoked_at', type: 'timestamptz', nullable: true })
  tokensRevokedAt: Date | null;

  /** The actor that is this client's own principal (namespace `bridgekeeper:clients`). */
  @Column({ name: 'actor_id', type: 'uuid' })
  actorId: string;

  // A client's principal cannot be deleted from under it.
  @ManyToOne(() => ActorEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'actor_id', foreignKeyConstraintName: 'fk_oauth_clients_actor' })
  actor?: ActorEntity;

  @Column({ name: 'project_id', type: 'uuid', nullable: true })
  projectId: string | null;

  // A project's clients go with it (never SET NULL: that would widen the client to every project).
  @ManyToOne(() => ProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id', foreignKeyConstraintName: 'fk_oauth_clients_project' })
  project?: ProjectEntity;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  scopes: string[];

  @Column({ name: 'grant_types', type: 'text', array: true, default: () => "'{}'" })
  grantTypes: string[];

  /** Trusted issuer names whose tokens this client may exchange (token exchange policy). */
  @Column({ name: 'exchange_issuers', type: 'text', array: true, default: () => "'{}'" })
  exchangeIssuers: string[];

  @Column({ name: 'subject_resolution', type: 'text', default: 'MEMBERSHIP' })
  subjectResolution: SubjectResolution;

  @Column({ type: 'text', default: 'ACTIVE' })
  status: ClientStatus;

  /** `dynamic`: registered itself (RFC 7591); people are asked for consent, unused ones expire. */
  @Column({ type: 'text', default: 'admin' })
  registration: ClientRegistration;

  /**
   * RFC 7591 name; the two secret methods are interchangeable, private_key_jwt accepts no secret, and
   * `none` is a public client (a browser or native app) that proves itself with PKCE alone.
   */
  @Column({ name: 'token_endpoint_auth_method', type: 'text', default: 'client_secret_basic' })
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;

  /** The public keys of a private_key_jwt client (a JWKS; never fetched from a URL). */
  @Column({ type: 'jsonb', nullable: true })
  jwks: ClientJwks | null;

  /** Where the authorization endpoint may send the browser back (exact match; RFC 8252 loopback ports). */
  @Column({ name: 'redirect_uris', type: 'text', array: true, default: () => "'{}'" })
  redirectUris: string[];

  /** Where end_session may send the browser after logout (exact match). */
  @Column({ name: 'post_logout_redirect_uris', type: 'text', array: true, default: () => "'{}'" })
  postLogoutRedirectUris: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
