import { Module } from '@nestjs/common';
import { AccountsModule } from 'src/accounts/accounts.module';
import { ActorsModule } from 'src/actors/actors.module';
import { BrowserSessionsModule } from 'src/browser-sessions/browser-sessions.module';
import { AssetsController } from 'src/web/assets.controller';
import { LoginController } from 'src/web/login.controller';
import { LoginThrottle } from 'src/web/login-throttle';
import { SetPasswordController } from 'src/web/set-password.controller';
import { SetupController } from 'src/web/setup.controller';
import { SsoLoginController } from 'src/web/sso-login.controller';
import { SsoModule } from 'src/sso/sso.module';

/** The server-rendered pages people use in a browser: login, logout, setup, set-password. */
@Module({
  controllers: [
    AssetsController,
    LoginController,
    SetPasswordController,
    SetupController,
    SsoLoginController,
  ],
  // The console's password change counts wrong current passwords in the same limiter as the login.
  exports: [LoginThrottle],
  imports: [AccountsModule, ActorsModule, BrowserSessionsModule, SsoModule],
  providers: [LoginThrottle],
})
export class WebModule {}
