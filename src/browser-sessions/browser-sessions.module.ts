import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ActorsModule } from 'src/actors/actors.module';
import { BrowserSessionEntity } from 'src/browser-sessions/browser-session.entity';
import { BrowserSessionsService } from 'src/browser-sessions/browser-sessions.service';
import { RevocationModule } from 'src/revocation/revocation.module';

@Module({
  exports: [BrowserSessionsService],
  imports: [ActorsModule, RevocationModule, TypeOrmModule.forFeature([BrowserSessionEntity])],
  providers: [BrowserSessionsService],
})
export class BrowserSessionsModule {}
