import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LocalAccountEntity } from 'src/accounts/local-account.entity';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { OneTimeLinkEntity } from 'src/accounts/one-time-link.entity';
import { OneTimeLinksService } from 'src/accounts/one-time-links.service';
import { ActorsModule } from 'src/actors/actors.module';

@Module({
  exports: [LocalAccountsService, OneTimeLinksService],
  imports: [ActorsModule, TypeOrmModule.forFeature([LocalAccountEntity, OneTimeLinkEntity])],
  providers: [LocalAccountsService, OneTimeLinksService],
})
export class AccountsModule {}
