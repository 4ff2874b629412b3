import { Field, GraphQLISODateTime, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum ExplainOutcomeEnum {
  PASS = 'PASS',
  FAIL = 'FAIL',
  SKIPPED = 'SKIPPED',
}
registerEnumType(ExplainOutcomeEnum, {
  name: 'ExplainOutcome',
  description: 'What one step of token validation found',
});

@ObjectType('ExplainStep', { description: 'One step of the validation and resolution pipeline' })
export class ExplainStep {
  @Field({
    description:
      'format, issuer, key, signature, claims, revocation, actor or membership, in that order',
  })
  name: string;

  @Field(() => ExplainOutcomeEnum)
  outcome: ExplainOutcomeEnum;

  @Field(() => String, {
    nullable: true,
    description: 'A fixed, safe explanation: never the token, a signature or a secret',
  })
  detail: string | null;
}

@ObjectType('TokenExplanation', {
  description: 'Why a token is accepted or refused, step by step (read-only: nothing is created)',
})
export class TokenExplanation {
  @Field({ description: 'Whether the token would authenticate a request (with no project header)' })
  valid: boolean;

  @Field(() => String, { nullable: true, description: 'Name of the matched issuer' })
  issuer: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The `sub` claim, once the signature vouches for it',
  })
  subject: string | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  expiresAt: Date | null;

  @Field(() => [ExplainStep])
  steps: ExplainStep[];
}
