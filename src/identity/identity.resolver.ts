import { Query, Resolver } from '@nestjs/graphql';
import { Actor, toActorModel } from 'src/actors/models/actor.model';
import { CurrentCaller } from 'src/common/auth/caller';
import type { Principal } from 'src/identity/principal';

@Resolver()
export class IdentityResolver {
  @Query(() => Actor, { description: 'The authenticated caller' })
  me(@CurrentCaller() principal: Principal): Actor {
    return toActorModel(principal.actor, principal.roles);
  }
}
