import { Field, ObjectType } from '@nestjs/graphql';

@ObjectType({ description: 'A password-reset link for a local account' })
export class PasswordResetLink {
  @Field({ description: 'Whether the link was emailed to the account' })
  emailSent: boolean;

  @Field(() => String, {
    nullable: true,
    description:
      'The one-time link itself, only when it could not be emailed (no SMTP or no email address): hand it over privately; it is shown once',
  })
  link: string | null;

  @Field()
  expiresAt: Date;
}
