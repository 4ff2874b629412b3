import { ArgsType, Field } from '@nestjs/graphql';
import { IsString, MaxLength } from 'class-validator';

@ArgsType()
export class ExplainTokenArgs {
  @Field({ description: 'The bearer token to explain (it is never echoed back or logged)' })
  @IsString()
  @MaxLength(16384)
  token: string;
}
