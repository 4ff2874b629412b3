import { AuditFrom, type AuditRequest } from 'src/audit/audit-context';
import { Args, Context, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import type { FastifyRequest } from 'fastify';
import { CurrentCaller } from 'src/common/auth/caller';
import { ChangePasswordArgs, MyBrowserSessionArgs } from 'src/console/dto/my-account.args';
import { MyBrowserSession } from 'src/console/models/my-browser-session.model';
import { MyAccountService } from 'src/console/my-account.service';
import type { Principal } from 'src/identity/principal';

/** My account: any signed-in person, about themselves only. */
@Resolver()
export class MyAccountResolver {
  constructor(private readonly service: MyAccountService) {}

  @Query(() => [MyBrowserSession], {
    description: 'Your signed-in browsers, the most recently used first',
  })
  async myBrowserSessions(@CurrentCaller() caller: Principal): Promise<MyBrowserSession[]> {
    return (await this.service.sessions(caller)).map((s) => ({
      id: s.id,
      createdAt: s.createdAt,
      lastSeenAt: s.lastUsedAt,
      userAgent: s.userAgent,
      current: s.current,
    }));
  }

  @Mutation(() => Boolean, {
    description:
      'Sign one of your browsers out, on every node within a second, with the grants made in it',
  })
  async endMyBrowserSession(
    @Args() { id }: MyBrowserSessionArgs,
    @CurrentCaller() caller: Principal,
  ): Promise<boolean> {
    await this.service.endSession(caller, id);
    return true;
  }

  @Mutation(() => Int, {
    description:
      'Sign out everywhere: every browser session and every grant of yours, this one included. Returns how many browser sessions ended',
  })
  signOutEverywhere(
    @CurrentCaller() caller: Principal,
    @AuditFrom() from: AuditRequest,
  ): Promise<number> {
    return this.service.signOutEverywhere(caller, from);
  }

  @Mutation(() => Boolean, {
    description:
      'Change your password (a local account): the current one must match (wrong ones count as failed sign-ins, locked out like the login page), the new one follows the set-password policy. Your other browser sessions end, with their grants',
  })
  async changePassword(
    @Args() { currentPassword, newPassword }: ChangePasswordArgs,
    @CurrentCaller() caller: Principal,
    @Context('req') req: FastifyRequest,
  ): Promise<boolean> {
    await this.service.changePassword(caller, currentPassword, newPassword, req.ip);
    return true;
  }
}
