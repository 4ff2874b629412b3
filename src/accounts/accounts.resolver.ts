import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { AccountLinksService } from 'src/accounts/account-links.service';
import { PasswordResetLink } from 'src/accounts/models/password-reset-link.model';
import { ActorIdArgs } from 'src/actors/dto/actors.args';
import { ADMIN_ROLE, RequireRoles } from 'src/common/decorators/roles.decorator';

@Resolver()
@RequireRoles(ADMIN_ROLE)
export class AccountsResolver {
  constructor(private readonly links: AccountLinksService) {}

  @Mutation(() => PasswordResetLink, {
    description:
      "Send a one-time password-reset link to an actor's local account (earlier unused links stop working; setting the new password ends the account's browser sessions) (ADMIN)",
  })
  async sendPasswordResetLink(@Args() { id }: ActorIdArgs): Promise<PasswordResetLink> {
    const r = await this.links.sendPasswordReset(id);
    return { emailSent: r.emailSent, link: r.link ?? null, expiresAt: r.expiresAt };
  }
}
