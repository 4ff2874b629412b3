import { Module } from '@nestjs/common';
import { AccountsModule } from 'src/accounts/accounts.module';
import { ActorsModule } from 'src/actors/actors.module';
import { BrowserSessionsModule } from 'src/browser-sessions/browser-sessions.module';
import { ActivityResolver } from 'src/console/activity.resolver';
import { AuditEventsResolver } from 'src/console/audit-events.resolver';
import { ConsoleActivityService } from 'src/console/console-activity.service';
import { ConsoleStaticController } from 'src/console/console-static.controller';
import { MyAccountResolver } from 'src/console/my-account.resolver';
import { MyAccountService } from 'src/console/my-account.service';
import { ViewerResolver } from 'src/console/viewer.resolver';
import { OauthModule } from 'src/oauth/oauth.module';
import { ProjectsModule } from 'src/projects/projects.module';
import { WebModule } from 'src/web/web.module';

/** The admin console (issue 10): its built files, and the GraphQL only the console needs. */
@Module({
  controllers: [ConsoleStaticController],
  imports: [
    AccountsModule,
    ActorsModule,
    BrowserSessionsModule,
    OauthModule,
    ProjectsModule,
    WebModule,
  ],
  providers: [
    ActivityResolver,
    AuditEventsResolver,
    ConsoleActivityService,
    MyAccountResolver,
    MyAccountService,
    ViewerResolver,
  ],
})
export class ConsoleModule {}
