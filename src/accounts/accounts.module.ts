import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountLinksService } from 'src/accounts/account-links.service';
import { AccountsResolver } from 'src/accounts/accounts.resolver';
import { LocalAccountEntity } from 'src/accounts/local-account.entity';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { OneTimeLinkEntity } from 'src/accounts/one-time-link.entity';
import { OneTimeLinksService } from 'src/accounts/one-time-links.service';
import { SetupService } from 'src/accounts/setup.service';
import { ActorsModule } from 'src/actors/actors.module';
import { MailModule } from 'src/mail/mail.module';
import { MembershipsModule } from 'src/memberships/memberships.module';

@Module({
  exports: [AccountLinksService, LocalAccountsService, SetupService],
  imports: [
    ActorsModule,
    MailModule,
    MembershipsModule,
    TypeOrmModule.forFeature([LocalAccountEntity, OneTimeLinkEntity]),
  ],
  providers: [
    AccountLinksService,
    AccountsResolver,
    LocalAccountsService,
    OneTimeLinksService,
    SetupService,
  ],
})
export class AccountsModule {}
