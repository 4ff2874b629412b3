import { Field, InputType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';
import { PROFILE_RESOURCE_TYPES, type ProfileResourceType } from 'src/memberships/fhir-user';
import { ProfileResourceTypeEnum } from 'src/memberships/models/membership.model';

/** `|` separates system and value in a fhirUser identifier search, and a backslash is refused there. */
const SEARCHABLE = /^[^|\\]*$/;
const SEARCHABLE_MESSAGE =
  '$property cannot contain | or \\ (no fhirUser identifier search could match it)';

@InputType('IdentifierInput')
export class IdentifierInput {
  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 512)
  @Matches(SEARCHABLE, { message: SEARCHABLE_MESSAGE })
  system?: string;

  @Field()
  @IsString()
  @Length(1, 256)
  @Matches(SEARCHABLE, { message: SEARCHABLE_MESSAGE })
  value: string;
}

/** One invite, the same for `POST /admin/projects/:projectId/invite` and GraphQL `inviteMember`. */
@InputType('InviteInput')
export class InviteInput {
  @Field(() => ProfileResourceTypeEnum)
  @IsIn(PROFILE_RESOURCE_TYPES)
  resourceType: ProfileResourceType;

  @Field()
  @IsString()
  @Length(1, 200)
  firstName: string;

  @Field()
  @IsString()
  @Length(1, 200)
  lastName: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsEmail()
  @Length(3, 320)
  email?: string;

  @Field({ nullable: true, description: "The member's subject at `issuer`" })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  externalId?: string;

  @Field({
    nullable: true,
    description:
      'Trusted issuer the member is bound to (with or without externalId): only its tokens find the member by externalId or fhirUser. Required with externalId when several issuers are trusted; absent without externalId: bound to none',
  })
  @IsOptional()
  @Matches(/^[a-z0-9]{1,64}$/, { message: 'issuer must be a trusted issuer name' })
  issuer?: string;

  @Field(() => [IdentifierInput], {
    nullable: true,
    description: "The profile's identifiers, for fhirUser identifier searches of `issuer`'s tokens",
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => IdentifierInput)
  identifiers?: IdentifierInput[];

  @Field({ nullable: true })
  @IsOptional()
  @IsBoolean()
  admin?: boolean;

  @Field({ nullable: true })
  @IsOptional()
  @IsBoolean()
  sendEmail?: boolean;

  @Field({ nullable: true, description: 'Update the same person instead of answering 409' })
  @IsOptional()
  @IsBoolean()
  upsert?: boolean;
}
