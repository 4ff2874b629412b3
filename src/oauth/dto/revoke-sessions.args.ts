import { ArgsType, Field, ID } from '@nestjs/graphql';
import { IsUUID } from 'class-validator';

@ArgsType()
export class RevokeSessionsArgs {
  @Field(() => ID)
  @IsUUID()
  actorId: string;
}
