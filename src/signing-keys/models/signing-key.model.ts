import { Field, GraphQLISODateTime, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { SigningKeyInfo } from 'src/signing-keys/signing-keys.service';

export enum SigningKeyStatusEnum {
  ACTIVE = 'ACTIVE',
  NEXT = 'NEXT',
  RETIRED = 'RETIRED',
}
registerEnumType(SigningKeyStatusEnum, {
  name: 'SigningKeyStatus',
  description:
    'ACTIVE signs new tokens; NEXT is published and verifies but signs only once a rotation promotes it; RETIRED only verifies until its publication window ends',
});

export enum SigningKeyAlgorithmEnum {
  ES256 = 'ES256',
  RS256 = 'RS256',
}
registerEnumType(SigningKeyAlgorithmEnum, {
  name: 'SigningKeyAlgorithm',
  description: 'JWS algorithm of a Bridgekeeper signing key',
});

@ObjectType('SigningKey', {
  description: 'One of Bridgekeeper’s own token signing keys (public facts only, ADMIN)',
})
export class SigningKey {
  @Field({ description: 'Key id, as in the JWKS and in token headers' })
  kid: string;

  @Field(() => SigningKeyAlgorithmEnum)
  alg: SigningKeyAlgorithmEnum;

  @Field(() => SigningKeyStatusEnum)
  status: SigningKeyStatusEnum;

  @Field(() => GraphQLISODateTime)
  createdAt: Date;

  @Field(() => GraphQLISODateTime, {
    nullable: true,
    description: 'When it became ACTIVE (null while NEXT); scheduled rotation counts from here',
  })
  activatedAt: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  retiredAt: Date | null;

  @Field(() => GraphQLISODateTime, {
    nullable: true,
    description: 'A retired key is published and accepted until then',
  })
  publishUntil: Date | null;
}

export function toSigningKeyModel(k: SigningKeyInfo): SigningKey {
  return {
    kid: k.kid,
    alg: k.alg as SigningKeyAlgorithmEnum,
    status: k.status as SigningKeyStatusEnum,
    createdAt: k.createdAt,
    activatedAt: k.activatedAt,
    retiredAt: k.retiredAt,
    publishUntil: k.publishUntil,
  };
}
