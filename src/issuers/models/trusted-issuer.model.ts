import { Field, GraphQLISODateTime, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { TrustedIssuerView } from 'src/issuers/issuers.service';

export enum TrustedIssuerSourceEnum {
  CONFIG = 'CONFIG',
  DATABASE = 'DATABASE',
}
registerEnumType(TrustedIssuerSourceEnum, {
  name: 'TrustedIssuerSource',
  description: 'Where a trusted issuer is defined: configuration (read-only) or the admin API',
});

export enum TrustedIssuerProvisioningEnum {
  JIT = 'JIT',
  EXISTING = 'EXISTING',
}
registerEnumType(TrustedIssuerProvisioningEnum, {
  name: 'TrustedIssuerProvisioning',
  description: 'JIT: an actor is created on its first valid token; EXISTING: only known actors',
});

@ObjectType('TrustedIssuer', {
  description: 'An identity provider whose tokens Bridgekeeper accepts',
})
export class TrustedIssuer {
  @Field({ description: 'Lower-case letters and digits; part of every actor identity' })
  name: string;

  @Field({ description: 'The exact `iss` value, compared byte for byte' })
  issuer: string;

  @Field(() => String, { nullable: true })
  jwksUrl: string | null;

  @Field(() => String, { nullable: true })
  userinfoUrl: string | null;

  @Field({ description: 'Whether opaque (non-JWT) tokens are checked at this userinfo URL' })
  opaque: boolean;

  @Field(() => [String])
  audiences: string[];

  @Field()
  audiencesRequired: boolean;

  @Field(() => [String])
  algorithms: string[];

  @Field(() => Int)
  clockToleranceSeconds: number;

  @Field(() => Int, { nullable: true })
  maxTokenAgeSeconds: number | null;

  @Field(() => TrustedIssuerProvisioningEnum)
  provisioning: TrustedIssuerProvisioningEnum;

  @Field(() => String, { nullable: true })
  fhirBase: string | null;

  @Field()
  userinfoCredentials: boolean;

  @Field()
  emailMatching: boolean;

  @Field(() => TrustedIssuerSourceEnum)
  source: TrustedIssuerSourceEnum;

  @Field({ description: 'False for configuration issuers' })
  editable: boolean;

  @Field(() => GraphQLISODateTime, { nullable: true })
  createdAt: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  updatedAt: Date | null;
}

export function toTrustedIssuerModel(v: TrustedIssuerView): TrustedIssuer {
  return {
    name: v.name,
    issuer: v.issuer,
    jwksUrl: v.jwksUrl ?? null,
    userinfoUrl: v.userinfoUrl ?? null,
    opaque: v.opaque,
    audiences: v.audiences,
    audiencesRequired: v.audiencesRequired,
    algorithms: v.algorithms,
    clockToleranceSeconds: v.clockToleranceSeconds,
    maxTokenAgeSeconds: v.maxTokenAgeSeconds ?? null,
    provisioning:
      v.provisioning === 'existing'
        ? TrustedIssuerProvisioningEnum.EXISTING
        : TrustedIssuerProvisioningEnum.JIT,
    fhirBase: v.fhirBase ?? null,
    userinfoCredentials: v.userinfoCredentials,
    emailMatching: v.emailMatching,
    source:
      v.source === 'database' ? TrustedIssuerSourceEnum.DATABASE : TrustedIssuerSourceEnum.CONFIG,
    editable: v.editable,
    createdAt: v.createdAt ?? null,
    updatedAt: v.updatedAt ?? null,
  };
}
