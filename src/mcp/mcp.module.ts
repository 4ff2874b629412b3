import { Module } from '@nestjs/common';
import { ActorsModule } from 'src/actors/actors.module';
import { ClientsModule } from 'src/clients/clients.module';
import { IdentityModule } from 'src/identity/identity.module';
import { InvitesModule } from 'src/invites/invites.module';
import { IssuersModule } from 'src/issuers/issuers.module';
import { McpAccess } from 'src/mcp/mcp-access';
import { McpController } from 'src/mcp/mcp.controller';
import { McpService } from 'src/mcp/mcp.service';
import { MembershipsModule } from 'src/memberships/memberships.module';
import { OauthModule } from 'src/oauth/oauth.module';
import { ProjectsModule } from 'src/projects/projects.module';

/** `/mcp`: the Model Context Protocol endpoint for AI agents (issue 11 §3). */
@Module({
  controllers: [McpController],
  imports: [
    ActorsModule,
    ClientsModule,
    IdentityModule,
    InvitesModule,
    IssuersModule,
    MembershipsModule,
    OauthModule,
    ProjectsModule,
  ],
  providers: [McpAccess, McpService],
})
export class McpModule {}
