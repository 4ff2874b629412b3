import { ArgsType, Field, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { TrustedIssuerProvisioningEnum } from 'src/issuers/models/trusted-issuer.model';

// Only bounds and types here: what makes an issuer valid is decided by the shared issuer rules
// (src/config/issuer-rules.ts), exactly as for configuration issuers.
const URL_MAX = 2048;

@ArgsType()
export class TrustedIssuerNameArgs {
  @Field()
  @IsString()
  @MaxLength(64)
  name: string;
}

@InputType('CreateTrustedIssuerInput')
export class CreateTrustedIssuerInput {
  @Field({ description: 'Lower-case letters and digits; cannot be changed later' })
  @IsString()
  @MaxLength(64)
  name: string;

  @Field({ description: 'The exact `iss` value' })
  @IsString()
  @MaxLength(URL_MAX)
  issuer: string;

  @Field(() => String, { nullable: true, description: 'Tokens are verified with these keys' })
  @IsOptional()
  @IsString()
  @MaxLength(URL_MAX)
  jwksUrl?: string;

  @Field(() => String, { nullable: true, description: 'Tokens are validated by calling it' })
  @IsOptional()
  @IsString()
  @MaxLength(URL_MAX)
  userinfoUrl?: string;

  @Field(() => Boolean, { nullable: true })
  @IsOptional()
  @IsBoolean()
  opaque?: boolean;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(512, { each: true })
  audiences?: string[];

  @Field(() => Boolean, {
    nullable: true,
    description: 'Default: true when a JWKS URL is given',
  })
  @IsOptional()
  @IsBoolean()
  audiencesRequired?: boolean;

  @Field(() => [String], { nullable: true, description: 'Asymmetric only; default RS256' })
  @IsOptional()
  @ArrayMaxSize(10)
  @IsString({ each: true })
  @MaxLength(16, { each: true })
  algorithms?: string[];

  @Field(() => Int, { nullable: true, description: '0 to 600, default 60' })
  @IsOptional()
  @IsInt()
  clockToleranceSeconds?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  maxTokenAgeSeconds?: number;

  @Field(() => TrustedIssuerProvisioningEnum, { nullable: true, description: 'Default JIT' })
  @IsOptional()
  @IsIn(Object.values(TrustedIssuerProvisioningEnum))
  provisioning?: TrustedIssuerProvisioningEnum;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(URL_MAX)
  fhirBase?: string;

  @Field(() => Boolean, { nullable: true })
  @IsOptional()
  @IsBoolean()
  userinfoCredentials?: boolean;

  @Field(() => Boolean, { nullable: true })
  @IsOptional()
  @IsBoolean()
  emailMatching?: boolean;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'Save even if the JWKS or userinfo endpoint fails the check made before saving (default false)',
  })
  @IsOptional()
  @IsBoolean()
  skipReachabilityCheck?: boolean;
}

@InputType('UpdateTrustedIssuerInput', {
  description:
    'Only the fields given change; null clears jwksUrl, userinfoUrl, maxTokenAgeSeconds or fhirBase',
})
export class UpdateTrustedIssuerInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(URL_MAX)
  issuer?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(URL_MAX)
  jwksUrl?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(URL_MAX)
  userinfoUrl?: string | null;

  @Field(() => Boolean, { nullable: true })
  @IsOptional()
  @IsBoolean()
  opaque?: boolean | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(512, { each: true })
  audiences?: string[] | null;

  @Field(() => Boolean, { nullable: true })
  @IsOptional()
  @IsBoolean()
  audiencesRequired?: boolean | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(10)
  @IsString({ each: true })
  @MaxLength(16, { each: true })
  algorithms?: string[] | null;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  clockToleranceSeconds?: number | null;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  maxTokenAgeSeconds?: number | null;

  @Field(() => TrustedIssuerProvisioningEnum, { nullable: true })
  @IsOptional()
  @IsIn(Object.values(TrustedIssuerProvisioningEnum))
  provisioning?: TrustedIssuerProvisioningEnum | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(URL_MAX)
  fhirBase?: string | null;

  @Field(() => Boolean, { nullable: true })
  @IsOptional()
  @IsBoolean()
  userinfoCredentials?: boolean | null;

  @Field(() => Boolean, { nullable: true })
  @IsOptional()
  @IsBoolean()
  emailMatching?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'Save even if a changed JWKS URL, userinfo URL or algorithms fail the check made before saving',
  })
  @IsOptional()
  @IsBoolean()
  skipReachabilityCheck?: boolean | null;
}

@ArgsType()
export class UpdateTrustedIssuerArgs extends TrustedIssuerNameArgs {
  @Field(() => UpdateTrustedIssuerInput)
  @ValidateNested()
  @Type(() => UpdateTrustedIssuerInput)
  input: UpdateTrustedIssuerInput;
}
