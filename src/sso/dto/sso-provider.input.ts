import { Field, InputType, OmitType, PartialType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsBoolean,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';

// Only bounds and types here: what makes a provider valid is decided by the shared SSO rules
// (src/config/sso-rules.ts), exactly as for the configuration provider.

@InputType('SsoCustomClaimInput')
export class SsoCustomClaimInput {
  @Field()
  @IsString()
  @MaxLength(128)
  claim: string;

  @Field()
  @IsString()
  @MaxLength(64)
  attribute: string;
}

@InputType('SsoClaimMappingsInput')
export class SsoClaimMappingsInput {
  @Field(() => String, { nullable: true, description: 'Default: email' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  email?: string;

  @Field(() => String, { nullable: true, description: 'Default: given_name' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  firstName?: string;

  @Field(() => String, {
    nullable: true,
    description: 'Default: family_name; null on update: no last name claim',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  lastName?: string | null;

  @Field(() => [SsoCustomClaimInput], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => SsoCustomClaimInput)
  custom?: SsoCustomClaimInput[];
}

@InputType('CreateSsoProviderInput')
export class CreateSsoProviderInput {
  @Field({ description: 'Lower-case letters, digits and -: its URLs are /login/sso/<name>/…' })
  @IsString()
  @MaxLength(40)
  name: string;

  @Field(() => String, { nullable: true, description: 'Created without it: the name' })
  @IsOptional()
  @IsString()
  @MaxLength(80)
  displayName?: string;

  @Field({ description: 'The exact iss of one of the trusted issuers (its discovery base URL)' })
  @IsString()
  @MaxLength(2048)
  authority: string;

  @Field()
  @IsString()
  @MaxLength(256)
  clientId: string;

  @Field(() => String, {
    nullable: true,
    description: 'Write-only, stored encrypted. Absent: a public client (PKCE alone)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  clientSecret?: string;

  @Field(() => [String], {
    nullable: true,
    description: 'Created without it: openid profile email',
  })
  @IsOptional()
  @ArrayMaxSize(30)
  @IsString({ each: true })
  @MaxLength(128, { each: true })
  scopes?: string[];

  @Field(() => SsoClaimMappingsInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => SsoClaimMappingsInput)
  claimMappings?: SsoClaimMappingsInput;

  @Field(() => [String], { nullable: true, description: 'Created without it: login_hint' })
  @IsOptional()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  forwardedParameters?: string[];

  @Field(() => Boolean, { nullable: true, description: 'Created without it: true' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

/** Every field optional; `name` changes its URLs (register them again at the provider). */
@InputType('UpdateSsoProviderInput')
export class UpdateSsoProviderInput extends PartialType(
  OmitType(CreateSsoProviderInput, ['clientSecret'] as const),
  InputType,
) {
  @Field(() => String, {
    nullable: true,
    description: 'Omitted: kept; null: removed (public client); a string: replaced',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  clientSecret?: string | null;
}
