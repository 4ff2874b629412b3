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

@InputType('IdentifierInput')
export class IdentifierInput {
  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 512)
  system?: string;

  @Field()
  @IsString()
  @Length(1, 256)
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
    description: 'Trusted issuer name; required with externalId when several are trusted',
  })
  @IsOptional()
  @Matches(/^[a-z0-9]{1,64}$/, { message: 'issuer must be a trusted issuer name' })
  issuer?: string;

  @Field(() => [IdentifierInput], { nullable: true })
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
