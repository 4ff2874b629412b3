import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsInt, Max, Min } from 'class-validator';

@ArgsType()
export class TokenStatsArgs {
  @Field(() => Int, { defaultValue: 60, description: 'Minutes back from now, 1 to 1440' })
  @IsInt()
  @Min(1)
  @Max(1440)
  lastMinutes: number = 60;
}
