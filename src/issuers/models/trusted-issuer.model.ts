import { Field, GraphQLISODateTime, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { TrustedIssuerView } from 'src/issuers/issuers.service';
import type { KeySetStatus } from 'src/issuers/key-set-status';

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

export enum KeySetStateEnum {
  PENDING = 'PENDING',
  OK = 'OK',
  STALE = 'STALE',
  FAILING = 'FAILING',
}
registerEnumType(KeySetStateEnum, {
  name: 'KeySetState',
  description: 'How the fetch of a trusted issuer key set (JWKS) goes on the node that answers',
  valuesMap: {
    PENDING: { description: 'No fetch has finished yet' },
    OK: { description: 'The last fetch succeeded' },
    STALE: {
      description:
        'The last fetch failed; the last good keys are still used, up to bridgekeeper.jwks.max.stale.seconds',
    },
    FAILING: {
      description:
        "The last fetch failed and there are no usable keys: this issuer's tokens are answered 503",
    },
  },
});

@ObjectType('EndpointProblem', {
  description: 'Why a call to an identity provider endpoint failed',
})
export class EndpointProblemModel {
  @Field({ description: 'What happened, e.g. "JWKS answered HTTP 404" (never the URL or a token)' })
  message: string;

  @Field(() => Int, { nullable: true, description: 'The HTTP status, when the server answered' })
  httpStatus: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      'When there was no usable HTTP answer: ECONNREFUSED, ENOTFOUND, TIMEOUT, REDIRECT, TOO_LARGE...',
  })
  networkError: string | null;

  @Field(() => GraphQLISODateTime)
  at: Date;
}

@ObjectType('IssuerKeySet', {
  description:
    "A trusted issuer's key set (JWKS) as seen by the node that answers: each node fetches its own",
})
export class IssuerKeySet {
  @Field(() => KeySetStateEnum)
  state: KeySetStateEnum;

  @Field(() => Int, { description: 'Keys in the set in use (0 when there is none)' })
  keyCount: number;

  @Field(() => GraphQLISODateTime, { nullable: true })
  lastAttemptAt: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  lastSuccessAt: Date | null;

  @Field(() => EndpointProblemModel, {
    nullable: true,
    description: 'The last attempt failure; null when it succeeded',
  })
  lastError: EndpointProblemModel | null;

  @Field(() => GraphQLISODateTime, {
    nullable: true,
    description:
      'The next background fetch (a token with an unknown key id may cause one earlier, at most once per cooldown)',
  })
  nextRetryAt: Date | null;
}

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

export function toIssuerKeySetModel(s: KeySetStatus | null): IssuerKeySet | null {
  if (!s) return null;
  const date = (ms: number | undefined) => (ms === undefined || ms === 0 ? null : new Date(ms));
  return {
    state: KeySetStateEnum[s.state],
    keyCount: s.keyCount,
    lastAttemptAt: date(s.lastAttemptAt),
    lastSuccessAt: date(s.lastSuccessAt),
    lastError: s.lastError
      ? {
          message: s.lastError.message,
          httpStatus: s.lastError.httpStatus ?? null,
          networkError: s.lastError.networkError ?? null,
          at: new Date(s.lastError.at),
        }
      : null,
    nextRetryAt: date(s.nextRetryAt),
  };
}
