import { Field, GraphQLISODateTime, ID, ObjectType } from '@nestjs/graphql';
import type { SsoProvider as SsoProviderView } from 'src/sso/sso-providers.service';

@ObjectType('SsoCustomClaim', { description: 'An ID token claim stored as an actor attribute' })
export class SsoCustomClaim {
  @Field()
  claim: string;

  @Field()
  attribute: string;
}

@ObjectType('SsoClaimMappings', { description: 'Which ID token claims fill the actor profile' })
export class SsoClaimMappings {
  @Field({ description: 'Required: a sign-in without it is refused, naming the claim' })
  email: string;

  @Field({ description: 'Required, like email' })
  firstName: string;

  @Field(() => String, { nullable: true, description: 'Optional in the token' })
  lastName: string | null;

  @Field(() => [SsoCustomClaim])
  custom: SsoCustomClaim[];
}

@ObjectType('SsoProvider', {
  description: 'An external OpenID provider people sign in through (a "Continue with" button)',
})
export class SsoProvider {
  @Field(() => ID)
  id: string;

  @Field({ description: 'Its name in URLs: /login/sso/<name>' })
  name: string;

  @Field({ description: 'The button says "Continue with <displayName>"' })
  displayName: string;

  @Field({ description: 'The exact iss of one of the trusted issuers' })
  authority: string;

  @Field()
  clientId: string;

  @Field({ description: 'Whether a client secret is stored (it is never returned)' })
  hasClientSecret: boolean;

  @Field(() => [String])
  scopes: string[];

  @Field(() => SsoClaimMappings)
  claimMappings: SsoClaimMappings;

  @Field(() => [String], {
    description: 'Query parameters of the login URL passed on to the provider (e.g. login_hint)',
  })
  forwardedParameters: string[];

  @Field()
  enabled: boolean;

  @Field({ description: 'True for the provider from configuration' })
  readOnly: boolean;

  @Field({ description: 'The redirect URI to register at the provider' })
  callbackUrl: string;

  @Field({ description: 'The post-logout redirect URI to register at the provider' })
  logoutRedirectUrl: string;

  @Field(() => GraphQLISODateTime, { nullable: true })
  createdAt: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  updatedAt: Date | null;
}

export function toSsoProviderModel(
  p: SsoProviderView,
  urls: { callbackUrl: string; logoutRedirectUrl: string },
): SsoProvider {
  return {
    id: p.id,
    name: p.name,
    displayName: p.displayName,
    authority: p.authority,
    clientId: p.clientId,
    hasClientSecret: p.clientSecret !== undefined,
    scopes: p.scopes,
    claimMappings: {
      email: p.claims.email,
      firstName: p.claims.firstName,
      lastName: p.claims.lastName,
      custom: p.claims.custom.map((c) => ({ claim: c.claim, attribute: c.attribute })),
    },
    forwardedParameters: p.forwardParams,
    enabled: p.enabled,
    readOnly: p.readOnly,
    ...urls,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}
