import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ActorEntity } from 'src/actors/actor.entity';
import { ActorsResolver } from 'src/actors/actors.resolver';
import { ActorsService } from 'src/actors/actors.service';

@Module({
  exports: [ActorsService],
  imports: [TypeOrmModule.forFeature([ActorEntity])],
  providers: [ActorsResolver, ActorsService],
})
export class ActorsModule {}
