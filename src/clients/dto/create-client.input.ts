import { Field, ID, InputType, registerEnumType } from '@nestjs/graphql';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  MaxLength,
} from 'class-validator';
import {
  CLIENT_GRANT_TYPES,
  type ClientGrantType,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type TokenEndpointAuthMethod,
} from 'src/clients/client.entity';
import { MAX_CLIENT_JWKS_BYTES } from 'src/clients/client-jwks';
import { MAX_REDIRECT_URI_LENGTH, MAX_REDIRECT_URIS } from 'src/clients/redirect-uris';

export enum GrantTypeEnum {
  CLIENT_CREDENTIALS = 'client_credentials',
  TOKEN_EXCHANGE = 'token_exchange',
  REFRESH_TOKEN = 'refresh_token',
  AUTHORIZATION_CODE = 'authorization_code',
  /** RFC 8628: command lines and devices without a browser; a person approves at /device. */
  DEVICE_CODE = 'device_code',
}
registerEnumType(GrantTypeEnum, {
  name: 'GrantType',
  description: 'OAuth grants a client may use at POST /oauth2/token',
});

export enum SubjectResolutionEnum {
  MEMBERSHIP = 'MEMBERSHIP',
  EMAIL = 'EMAIL',
  SUBJECT = 'SUBJECT',
}
registerEnumType(SubjectResolutionEnum, {
  name: 'SubjectResolution',
  description:
    'How token exchange finds the actor for a subject token: MEMBERSHIP as for a direct request (fhirUser, then sub = externalId), EMAIL by a verified email of an issuer that allows email matching, SUBJECT by (issuer, sub) alone',
});

export enum TokenEndpointAuthMethodEnum {
  CLIENT_SECRET_BASIC = 'client_secret_basic',
  CLIENT_SECRET_POST = 'client_secret_post',
  PRIVATE_KEY_JWT = 'private_key_jwt',
  NONE = 'none',
}
registerEnumType(TokenEndpointAuthMethodEnum, {
  name: 'TokenEndpointAuthMethod',
  description:
    "How the client authenticates at the token, revocation and introspection endpoints (RFC 7591 names). The two secret methods are interchangeable (either is accepted); PRIVATE_KEY_JWT (RFC 7523) accepts only assertions signed with a key of the client's jwks, never a secret; NONE is a public client (browser or native app): no secret, PKCE proves it at the token endpoint, and it may use only AUTHORIZATION_CODE and REFRESH_TOKEN",
});

/** RFC 6749 §3.3 scope-token. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/;
export const ROLE_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;

@InputType('CreateClientInput')
export class CreateClientInput {
  @Field()
  @IsString()
  @Length(1, 200)
  name: string;

  @Field(() => [GrantTypeEnum])
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(4)
  @IsIn(CLIENT_GRANT_TYPES, { each: true })
  grantTypes: ClientGrantType[];

  @Field(() => [String], {
    description:
      'Scopes the client may be granted (e.g. openid, profile, email, offline_access, api)',
  })
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(SCOPE_TOKEN, { each: true, message: 'scopes must be RFC 6749 scope tokens' })
  scopes: string[];

  @Field(() => [String], {
    nullable: true,
    description: "Roles of the client's own principal (ADMIN allows X-Bridgekeeper-On-Behalf-Of)",
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @Matches(ROLE_NAME, { each: true, message: 'roles must be upper-case names (A-Z, 0-9, _)' })
  roles?: string[];

  @Field(() => ID, { nullable: true, description: 'Limit the client to one project' })
  @IsOptional()
  @IsUUID()
  projectId?: string;

  @Field(() => [String], {
    nullable: true,
    description:
      'Trusted issuer names whose tokens the client may exchange (token exchange); `bridgekeeper`: the client may act for a person whose Bridgekeeper token it holds (RFC 8693 delegation: its own token as actor_token, the result names it in `act`)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(/^[a-z0-9]{1,64}$/, { each: true, message: 'exchangeIssuers must be issuer names' })
  exchangeIssuers?: string[];

  @Field(() => SubjectResolutionEnum, { nullable: true, defaultValue: 'MEMBERSHIP' })
  @IsOptional()
  @IsIn(['MEMBERSHIP', 'EMAIL', 'SUBJECT'])
  subjectResolution?: SubjectResolutionEnum;

  @Field(() => TokenEndpointAuthMethodEnum, {
    nullable: true,
    description: 'Client authentication method (default: a client secret, Basic or form)',
  })
  @IsOptional()
  @IsIn(TOKEN_ENDPOINT_AUTH_METHODS)
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;

  @Field(() => String, {
    nullable: true,
    description:
      'PRIVATE_KEY_JWT only, and required there: a JSON Web Key Set of PUBLIC keys (RSA >= 2048 bits, EC P-256/384/521, Ed25519; each with a kid; at most 10 keys, 16 KiB). No jwks_uri: keys are never fetched',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CLIENT_JWKS_BYTES)
  jwks?: string;

  @Field(() => [String], {
    nullable: true,
    description:
      'Where /oauth2/authorize may send the browser back (AUTHORIZATION_CODE clients, at least one): absolute URLs in normalized form, https (http only on loopback, whose port may vary per request, RFC 8252) or a reversed-domain private-use scheme; matched exactly',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_REDIRECT_URIS)
  @IsString({ each: true })
  @MaxLength(MAX_REDIRECT_URI_LENGTH, { each: true })
  redirectUris?: string[];

  @Field(() => [String], {
    nullable: true,
    description:
      'Where /oauth2/end_session may send the browser after logout (same rules, matched exactly)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_REDIRECT_URIS)
  @IsString({ each: true })
  @MaxLength(MAX_REDIRECT_URI_LENGTH, { each: true })
  postLogoutRedirectUris?: string[];
}

/** What `updateClient` may change; every field optional (absent: unchanged). */
@InputType('UpdateClientInput')
export class UpdateClientInput {
  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @Field(() => [GrantTypeEnum], { nullable: true })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(4)
  @IsIn(CLIENT_GRANT_TYPES, { each: true })
  grantTypes?: ClientGrantType[];

  @Field(() => [String], {
    nullable: true,
    description: 'Replaces the scopes; existing grants narrow to them at their next refresh',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(SCOPE_TOKEN, { each: true, message: 'scopes must be RFC 6749 scope tokens' })
  scopes?: string[];

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(/^[a-z0-9]{1,64}$/, { each: true, message: 'exchangeIssuers must be issuer names' })
  exchangeIssuers?: string[];

  @Field(() => SubjectResolutionEnum, { nullable: true })
  @IsOptional()
  @IsIn(['MEMBERSHIP', 'EMAIL', 'SUBJECT'])
  subjectResolution?: SubjectResolutionEnum;

  @Field(() => [String], {
    nullable: true,
    description:
      'Where /oauth2/authorize may send the browser back (replaces the list): absolute URLs in normalized form, https (http only on loopback, whose port may vary per request, RFC 8252) or a reversed-domain private-use scheme; matched exactly',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_REDIRECT_URIS)
  @IsString({ each: true })
  @MaxLength(MAX_REDIRECT_URI_LENGTH, { each: true })
  redirectUris?: string[];

  @Field(() => [String], {
    nullable: true,
    description: 'Where /oauth2/end_session may send the browser after logout (replaces the list)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_REDIRECT_URIS)
  @IsString({ each: true })
  @MaxLength(MAX_REDIRECT_URI_LENGTH, { each: true })
  postLogoutRedirectUris?: string[];
}
