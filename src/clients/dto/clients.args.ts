import { ArgsType, Field, ID } from '@nestjs/graphql';
import { IsOptional, IsUUID } from 'class-validator';

@ArgsType()
export class ClientIdArgs {
  @Field(() => ID, { description: 'The client record id (not the public client_id)' })
  @IsUUID()
  id: string;
}

@ArgsType()
export class ClientsArgs {
  @Field(() => ID, { nullable: true, description: 'Only the clients of this project' })
  @IsOptional()
  @IsUUID()
  projectId?: string;
}
