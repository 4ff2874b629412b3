import { ArgsType, Field, GraphQLISODateTime, ID, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  IsDate,
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

@InputType('AuditEventFilter')
export class AuditEventFilterInput {
  @Field(() => ID, { nullable: true, description: 'Events of this actor' })
  @IsOptional()
  @IsUUID()
  actorId?: string;

  @Field({ nullable: true, description: 'Exact action, e.g. actor.disable' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_.]{1,64}$/, { message: 'action must be an action name such as actor.disable' })
  action?: string;

  @Field({ nullable: true, description: 'Events about this target (an actor, client... id)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  targetId?: string;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'At or after this time' })
  @IsOptional()
  @IsDate()
  from?: Date;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'At or before this time' })
  @IsOptional()
  @IsDate()
  to?: Date;
}

@ArgsType()
export class AuditEventsArgs {
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

  @Field(() => AuditEventFilterInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => AuditEventFilterInput)
  filter?: AuditEventFilterInput;
}
