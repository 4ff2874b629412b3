import { Field, GraphQLISODateTime, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum TokenOutcomeEnum {
  ACCEPTED = 'ACCEPTED',
  REFUSED = 'REFUSED',
}
registerEnumType(TokenOutcomeEnum, { name: 'TokenOutcome' });

@ObjectType('TokenStatsBucket', {
  description: 'Token validations of one minute, issuer, outcome and refusal reason',
})
export class TokenStatsBucket {
  @Field(() => GraphQLISODateTime, { description: 'The minute (UTC), to the second 0' })
  minute: Date;

  @Field({ description: 'Trusted issuer name (`unknown`: no trusted issuer matched)' })
  issuer: string;

  @Field(() => TokenOutcomeEnum)
  outcome: TokenOutcomeEnum;

  @Field(() => String, {
    nullable: true,
    description: 'Why they were refused (a fixed code, e.g. `expired`); null when accepted',
  })
  reason: string | null;

  @Field(() => Int)
  count: number;
}

@ObjectType('TokenStats', { description: 'Token validations and refusals, cluster-wide' })
export class TokenStats {
  @Field(() => [TokenStatsBucket], { description: 'Only minutes with something counted' })
  buckets: TokenStatsBucket[];
}

@ObjectType('Overview', { description: 'The console overview’s numbers, cluster-wide' })
export class Overview {
  @Field(() => Int, { description: 'Actors first seen since midnight UTC (clients not counted)' })
  actorsCreatedToday: number;

  @Field(() => Int, {
    description: 'Refused password sign-ins (wrong password or locked out) in the last 60 minutes',
  })
  failedLoginsLastHour: number;

  @Field(() => Int, { description: 'Signed-in browsers (not ended, expired or idle)' })
  activeBrowserSessions: number;
}
