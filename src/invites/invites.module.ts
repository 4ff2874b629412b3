import { Module } from '@nestjs/common';
import { AccountsModule } from 'src/accounts/accounts.module';
import { InvitesController } from 'src/invites/invites.controller';
import { InvitesResolver } from 'src/invites/invites.resolver';
import { InvitesService } from 'src/invites/invites.service';
import { IssuersModule } from 'src/issuers/issuers.module';
import { MailModule } from 'src/mail/mail.module';
import { MembershipsModule } from 'src/memberships/memberships.module';
import { ProjectsModule } from 'src/projects/projects.module';

@Module({
  controllers: [InvitesController],
  exports: [InvitesService],
  imports: [AccountsModule, IssuersModule, MailModule, MembershipsModule, ProjectsModule],
  providers: [InvitesResolver, InvitesService],
})
export class InvitesModule {}
