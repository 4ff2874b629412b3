import { Field, GraphQLISODateTime, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum ActorStatusEnum {
  ACTIVE = 'ACTIVE',
  DISABLED = 'DISABLED',
}
registerEnumType(ActorStatusEnum, {
  name: 'ActorStatus',
  description: 'Whether the actor may authenticate',
});

@ObjectType('Actor', {
  description: 'A caller known by (trusted issuer, subject), created on its first valid token',
})
export class Actor {
  @Field(() => ID)
  id: string;

  @Field({ description: 'Name of the trusted issuer that vouches for this actor' })
  issuer: string;

  @Field({ description: 'The `sub` claim at that issuer' })
  subject: string;

  @Field(() => String, { nullable: true })
  email: string | null;

  @Field(() => Boolean, { nullable: true })
  emailVerified: boolean | null;

  @Field(() => String, { nullable: true })
  name: string | null;

  @Field(() => String, { nullable: true })
  givenName: string | null;

  @Field(() => String, { nullable: true })
  familyName: string | null;

  @Field(() => String, { nullable: true })
  preferredUsername: string | null;

  @Field(() => [String], {
    description: 'Effective roles, including ADMIN granted by configuration',
  })
  roles: string[];

  @Field(() => ActorStatusEnum)
  status: ActorStatusEnum;

  @Field(() => GraphQLISODateTime)
  createdAt: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  lastSeenAt: Date | null;
}

@ObjectType('ActorEdge')
export class ActorEdge {
  @Field()
  cursor: string;

  @Field(() => Actor)
  node: Actor;
}

@ObjectType('PageInfo')
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

@ObjectType('ActorConnection')
export class ActorConnection {
  @Field(() => [ActorEdge])
  edges: ActorEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  @Field(() => Int, { description: 'Number of actors matching the filter' })
  totalCount: number;
}

/** The API view of an actor snapshot, with its effective roles. */
export function toActorModel(
  s: {
    id: string;
    issuerName: string;
    subject: string;
    email: string | null;
    emailVerified: boolean | null;
    name: string | null;
    givenName: string | null;
    familyName: string | null;
    preferredUsername: string | null;
    status: string;
    createdAt: string;
    lastSeenAt: string | null;
  },
  roles: string[],
): Actor {
  return {
    id: s.id,
    issuer: s.issuerName,
    subject: s.subject,
    email: s.email,
    emailVerified: s.emailVerified,
    name: s.name,
    givenName: s.givenName,
    familyName: s.familyName,
    preferredUsername: s.preferredUsername,
    roles,
    status: s.status as ActorStatusEnum,
    createdAt: new Date(s.createdAt),
    lastSeenAt: s.lastSeenAt ? new Date(s.lastSeenAt) : null,
  };
}
