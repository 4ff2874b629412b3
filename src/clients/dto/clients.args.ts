import { ArgsType, Field, ID } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsOptional, IsString, IsUUID, MaxLength, ValidateNested } from 'class-validator';
import { UpdateClientInput } from 'src/clients/dto/create-client.input';
import { MAX_CLIENT_JWKS_BYTES } from 'src/clients/client-jwks';

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

@ArgsType()
export class SetClientJwksArgs {
  @Field(() => ID, { description: 'The client record id (not the public client_id)' })
  @IsUUID()
  id: string;

  @Field({
    description: 'The new JSON Web Key Set (public keys only); replaces the old one at once',
  })
  @IsString()
  @MaxLength(MAX_CLIENT_JWKS_BYTES)
  jwks: string;
}

@ArgsType()
export class UpdateClientArgs {
  @Field(() => ID, { description: 'The client record id (not the public client_id)' })
  @IsUUID()
  id: string;

  @Field(() => UpdateClientInput)
  @ValidateNested()
  @Type(() => UpdateClientInput)
  input: UpdateClientInput;
}
