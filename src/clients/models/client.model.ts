import { Field, GraphQLISODateTime, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { isBuiltInClient } from 'src/clients/console-client';
import type { ClientSnapshot } from 'src/clients/client-snapshot';
import {
  GrantTypeEnum,
  SubjectResolutionEnum,
  TokenEndpointAuthMethodEnum,
} from 'src/clients/dto/create-client.input';
import { PageInfo } from 'src/actors/models/actor.model';

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

  @Field(() => TokenEndpointAuthMethodEnum)
  tokenEndpointAuthMethod: TokenEndpointAuthMethodEnum;

  @Field(() => String, {
    nullable: true,
    description: 'The public keys of a PRIVATE_KEY_JWT client, as a JSON Web Key Set (JSON text)',
  })
  jwks: string | null;

  @Field(() => [String], { description: 'Where /oauth2/authorize may send the browser back' })
  redirectUris: string[];

  @Field(() => [String], { description: 'Where /oauth2/end_session may send the browser' })
  postLogoutRedirectUris: string[];

  @Field(() => GraphQLISODateTime)
  createdAt: Date;

  @Field(() => GraphQLISODateTime)
  secretRotatedAt: Date;

  @Field({
    description:
      'Built in (the admin console’s client): kept by Bridgekeeper, refused by every change',
  })
  builtIn: boolean;
}

@ObjectType('ClientWithSecret', {
  description: 'A client and its secret: the only time the secret is shown',
})
export class ClientWithSecret {
  @Field(() => Client)
  client: Client;

  @Field(() => String, {
    nullable: true,
    description:
      'Store it now: only its hash is kept. Null for PRIVATE_KEY_JWT clients (no secret)',
  })
  clientSecret: string | null;
}

@ObjectType('ClientEdge')
export class ClientEdge {
  @Field()
  cursor: string;

  @Field(() => Client)
  node: Client;
}

@ObjectType('ClientConnection')
export class ClientConnection {
  @Field(() => [ClientEdge])
  edges: ClientEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  @Field(() => Int, { description: 'Number of clients matching the filter' })
  totalCount: number;
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
    tokenEndpointAuthMethod: (c.tokenEndpointAuthMethod ??
      'client_secret_basic') as TokenEndpointAuthMethodEnum,
    jwks: c.jwks ? JSON.stringify(c.jwks) : null,
    redirectUris: c.redirectUris ?? [],
    postLogoutRedirectUris: c.postLogoutRedirectUris ?? [],
    createdAt: new Date(c.createdAt),
    secretRotatedAt: new Date(c.secretRotatedAt),
    builtIn: isBuiltInClient(c.clientId),
  };
}
