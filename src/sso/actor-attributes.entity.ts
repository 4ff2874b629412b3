import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { ActorEntity } from 'src/actors/actor.entity';

/** Attributes of an actor from its SSO provider's custom claims (TagoIO tags), replaced at each sign-in. */
@Entity({ name: 'actor_attributes' })
export class ActorAttributesEntity {
  @PrimaryColumn({
    name: 'actor_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_actor_attributes',
  })
  actorId: string;

  @OneToOne(() => ActorEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'actor_id', foreignKeyConstraintName: 'fk_actor_attributes_actor' })
  actor?: ActorEntity;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  attributes: Record<string, unknown>;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
