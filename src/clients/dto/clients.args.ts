import { ArgsType, Field, ID, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
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
  @Field(() => Int, { defaultValue: 50, description: 'Page size, 1 to 100' })
  @IsInt()
  @Min(1)
  @Max(100)
  first: number = 50;

  @Field({ nullable: true, description: 'Cursor from a previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  after?: string;

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
