import { ArgsType, Field, ID, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { ActorStatusEnum } from 'src/actors/models/actor.model';

@InputType('ActorFilter')
export class ActorFilterInput {
  @Field({ nullable: true, description: 'Trusted issuer name' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  issuer?: string;

  @Field(() => ActorStatusEnum, { nullable: true })
  @IsOptional()
  @IsIn(Object.values(ActorStatusEnum))
  status?: ActorStatusEnum;

  @Field({
    nullable: true,
    description: 'Case-insensitive match on email, name, preferred username or subject',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  search?: string;

  @Field({ nullable: true, description: 'Subject (`sub`) contains this, ignoring case' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  subject?: string;

  @Field({ nullable: true, description: 'Email contains this, ignoring case' })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  email?: string;

  @Field({
    nullable: true,
    description: 'Name or preferred username contains this, ignoring case',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;
}

@ArgsType()
export class ActorsArgs {
  @Field(() => Int, { defaultValue: 20, description: 'Page size, 1 to 100' })
  @IsInt()
  @Min(1)
  @Max(100)
  first: number = 20;

  @Field({ nullable: true, description: 'Cursor from a previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  after?: string;

  // Validated too: without these, the filter's own limits (lengths, the status) were never checked.
  @Field(() => ActorFilterInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => ActorFilterInput)
  filter?: ActorFilterInput;
}

@ArgsType()
export class ActorIdArgs {
  @Field(() => ID)
  @IsUUID()
  id: string;
}

@ArgsType()
export class SetActorRolesArgs {
  @Field(() => ID)
  @IsUUID()
  id: string;

  @Field(() => [String], { description: 'Upper-case role names, e.g. ADMIN' })
  @ArrayMaxSize(32)
  @IsString({ each: true })
  @Matches(/^[A-Z][A-Z0-9_]{0,63}$/, {
    each: true,
    message: 'roles must be upper-case names (A-Z, 0-9, _)',
  })
  roles: string[];
}
