import { ArgsType, Field, ID } from '@nestjs/graphql';
import { IsString, IsUUID, MaxLength } from 'class-validator';

@ArgsType()
export class ChangePasswordArgs {
  @Field()
  @IsString()
  @MaxLength(1024)
  currentPassword: string;

  @Field({ description: 'Same policy as the set-password page' })
  @IsString()
  @MaxLength(1024)
  newPassword: string;
}

@ArgsType()
export class MyBrowserSessionArgs {
  @Field(() => ID)
  @IsUUID()
  id: string;
}
