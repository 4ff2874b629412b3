import { Field, GraphQLISODateTime, ID, ObjectType } from '@nestjs/graphql';

@ObjectType('MyBrowserSession', { description: 'One of your signed-in browsers' })
export class MyBrowserSession {
  @Field(() => ID)
  id: string;

  @Field(() => GraphQLISODateTime, { description: 'When you signed in there' })
  createdAt: Date;

  @Field(() => GraphQLISODateTime, { description: 'Last use, to about a minute' })
  lastSeenAt: Date;

  @Field(() => String, {
    nullable: true,
    description: 'The browser, shortly (`Firefox on Linux`)',
  })
  userAgent: string | null;

  @Field({ description: 'The session this request comes from' })
  current: boolean;
}
