import { Field, GraphQLISODateTime, ID, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { ClientSnapshot } from 'src/clients/client-snapshot';
import { GrantTypeEnum, SubjectResolutionEnum } from 'src/clients/dto/create-client.input';

export enum ClientStatusEnum {
  ACTIVE = 'ACTIVE',
  DISABLED = 'DISABLED',
}
registerEnumType(ClientStatusEnum, { name: 'ClientStatus' });

@ObjectType('Client', { description: 'An OAuth client application (never shows its secret)' })
export class Client {
  @Field(() => ID)
  id: string;

  @Field({ description: 'The public client_id' })
  clientId: string;

  @Field()
  name: string;

  @Field(() => ID, { description: "The actor that is this client's own principal" })
  actorId: string;

  @Field(() => ID, { nullable: true })
  projectId: string | null;

  @Field(() => [String])
  scopes: string[];

  @Field(() => [GrantTypeEnum])
  grantTypes: GrantTypeEnum[];

  @Field(() => [String])
  exchangeIssuers: string[];

  @Field(() => SubjectResolutionEnum)
  subjectResolution: SubjectResolutionEnum;

  @Field(() => ClientStatusEnum)
  status: ClientStatusEnum;

  @Field(() => GraphQLISODateTime)
  createdAt: Date;

  @Field(() => GraphQLISODateTime)
  secretRotatedAt: Date;
}

@ObjectType('ClientWithSecret', {
  description: 'A client and its secret: the only time the secret is shown',
})
export class ClientWithSecret {
  @Field(() => Client)
  client: Client;

  @Field({ description: 'Store it now: only its hash is kept' })
  clientSecret: string;
}

export function toClientModel(c: ClientSnapshot): Client {
  return {
    id: c.id,
    clientId: c.clientId,
    name: c.name,
    actorId: c.actorId,
    projectId: c.projectId,
    scopes: c.scopes,
    grantTypes: c.grantTypes as GrantTypeEnum[],
    exchangeIssuers: c.exchangeIssuers,
    subjectResolution: c.subjectResolution as SubjectResolutionEnum,
    status: c.status as ClientStatusEnum,
    createdAt: new Date(c.createdAt),
    secretRotatedAt: new Date(c.secretRotatedAt),
  };
}
