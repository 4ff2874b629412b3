import { Field, GraphQLISODateTime, ID, ObjectType } from '@nestjs/graphql';
import { PageInfo } from 'src/actors/models/actor.model';
import type { AuditEventEntity } from 'src/audit/audit-event.entity';

@ObjectType('AuditActor', { description: 'One link of an `act` chain: who really called' })
export class AuditActor {
  @Field(() => ID, { description: 'Actor id of the real caller' })
  sub: string;

  @Field(() => String, { nullable: true })
  clientId: string | null;
}

@ObjectType('AuditEvent', {
  description: 'Who did what, to what, from where and when; never a token, secret or password',
})
export class AuditEvent {
  @Field(() => ID)
  id: string;

  @Field(() => GraphQLISODateTime)
  createdAt: Date;

  @Field({ description: 'e.g. actor.disable, client.secret.rotate, login.failure' })
  action: string;

  @Field({ description: 'SUCCESS or FAILURE' })
  outcome: string;

  @Field(() => ID, { nullable: true, description: 'The actor who acted (or signed in)' })
  actorId: string | null;

  @Field(() => String, { nullable: true, description: 'The OAuth client involved' })
  clientId: string | null;

  @Field(() => [AuditActor], {
    description:
      'Who acted for the caller, most recent first: the agents of an RFC 8693 delegated token, then an admin client acting for a member',
  })
  act: AuditActor[];

  @Field(() => String, { nullable: true })
  targetType: string | null;

  @Field(() => String, { nullable: true })
  targetId: string | null;

  @Field(() => ID, { nullable: true })
  projectId: string | null;

  @Field(() => String, { nullable: true })
  clientAddress: string | null;

  @Field(() => String, { nullable: true })
  requestId: string | null;

  @Field(() => String, { nullable: true, description: 'Further facts, as JSON text' })
  details: string | null;
}

@ObjectType('AuditEventEdge')
export class AuditEventEdge {
  @Field()
  cursor: string;

  @Field(() => AuditEvent)
  node: AuditEvent;
}

@ObjectType('AuditEventConnection')
export class AuditEventConnection {
  @Field(() => [AuditEventEdge])
  edges: AuditEventEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}

export function toAuditEventModel(e: AuditEventEntity): AuditEvent {
  return {
    id: e.id,
    createdAt: e.createdAt,
    action: e.action,
    outcome: e.outcome,
    actorId: e.actorId,
    clientId: e.clientId,
    act: (e.act ?? []).map((a) => ({ sub: a.sub, clientId: a.client_id ?? null })),
    targetType: e.targetType,
    targetId: e.targetId,
    projectId: e.projectId,
    clientAddress: e.clientAddress,
    requestId: e.requestId,
    details: e.details ? JSON.stringify(e.details) : null,
  };
}
