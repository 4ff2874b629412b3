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
import { ClientEntity } from 'src/clients/client.entity';
import type { ResourceKind } from 'src/token-validation/oauth-resources';

export type DeviceCodeStatus = 'pending' | 'approved' | 'denied' | 'used';

/**
 * A device authorization (RFC 8628): its device code and user code stored only as SHA-256, short-lived,
 * approved or denied once by a signed-in person, redeemed once by the client that asked for it.
 */
@Entity({ name: 'oauth_device_codes' })
@Check('ck_oauth_device_codes_status', `"status" IN ('pending', 'approved', 'denied', 'used')`)
@Check('ck_oauth_device_codes_resource', `"resource" IN ('api', 'mcp')`)
@Unique('uq_oauth_device_codes_device_code', ['deviceCodeHash'])
@Unique('uq_oauth_device_codes_user_code', ['userCodeHash'])
@Index('idx_oauth_device_codes_expires_at', ['expiresAt'])
export class DeviceCodeEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_oauth_device_codes' })
  id: string;

  @Column({ name: 'device_code_hash', type: 'text' })
  deviceCodeHash: string;

  @Column({ name: 'user_code_hash', type: 'text' })
  userCodeHash: string;

  @Column({ name: 'client_id', type: 'text' })
  clientId: string;

  @ManyToOne(() => ClientEntity, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'client_id',
    referencedColumnName: 'clientId',
    foreignKeyConstraintName: 'fk_oauth_device_codes_client',
  })
  client?: ClientEntity;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  scope: string[];

  @Column({ type: 'text', default: 'api' })
  resource: ResourceKind;

  @Column({ type: 'text', default: 'pending' })
  status: DeviceCodeStatus;

  /** The person who approved it (set with `approved`). */
  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  /** The browser session it was approved in: signing out there ends the grant it produced. */
  @Column({ name: 'browser_session_id', type: 'text', nullable: true })
  browserSessionId: string | null;

  /** Seconds the client must wait between polls (grows by 5 with every `slow_down`). */
  @Column({ name: 'interval_seconds', type: 'integer' })
  intervalSeconds: number;

  @Column({ name: 'last_polled_at', type: 'timestamptz', nullable: true })
  lastPolledAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
