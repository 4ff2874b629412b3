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
} from 'class-validator';
import { CLIENT_GRANT_TYPES, type ClientGrantType } from 'src/clients/client.entity';

export enum GrantTypeEnum {
  CLIENT_CREDENTIALS = 'client_credentials',
  TOKEN_EXCHANGE = 'token_exchange',
  REFRESH_TOKEN = 'refresh_token',
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
  @ArrayMaxSize(3)
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
    description: 'Trusted issuer names whose tokens the client may exchange (token exchange)',
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
}
