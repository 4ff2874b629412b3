import { Field, ObjectType } from '@nestjs/graphql';
import type { ActorClaim } from 'src/token-validation/token-claims';

@ObjectType('Delegation', {
  description:
    'Who acts for the person (RFC 8693 `act`): the agent or client of a delegated token, nested when it was delegated again',
})
export class Delegation {
  @Field({
    description:
      "The acting party: an actor id, or a client's own client_id (a client-credentials token)",
  })
  sub: string;

  @Field({ description: 'The client the acting party used' })
  clientId: string;

  @Field(() => Delegation, { nullable: true, description: 'Who acted before (delegated again)' })
  act?: Delegation | null;
}

export function toDelegationModel(act: ActorClaim): Delegation {
  return {
    sub: act.sub,
    clientId: act.client_id,
    act: act.act ? toDelegationModel(act.act) : null,
  };
}
