import { Module } from '@nestjs/common';
import { InvitesController } from 'src/invites/invites.controller';
import { InvitesResolver } from 'src/invites/invites.resolver';
import { InvitesService } from 'src/invites/invites.service';
import { MembershipsModule } from 'src/memberships/memberships.module';

@Module({
  controllers: [InvitesController],
  imports: [MembershipsModule],
  providers: [InvitesResolver, InvitesService],
})
export class InvitesModule {}
