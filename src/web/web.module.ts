import { Module } from '@nestjs/common';
import { AccountsModule } from 'src/accounts/accounts.module';
import { ActorsModule } from 'src/actors/actors.module';
import { BrowserSessionsModule } from 'src/browser-sessions/browser-sessions.module';
import { AssetsController } from 'src/web/assets.controller';
import { LoginController } from 'src/web/login.controller';
import { LoginThrottle } from 'src/web/login-throttle';

/** The server-rendered pages people use in a browser: login, logout, setup, set-password. */
@Module({
  controllers: [AssetsController, LoginController],
  imports: [AccountsModule, ActorsModule, BrowserSessionsModule],
  providers: [LoginThrottle],
})
export class WebModule {}
