import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ActorsModule } from 'src/actors/actors.module';
import { MembershipLoaders } from 'src/memberships/membership-loaders';
import { MembershipEntity } from 'src/memberships/membership.entity';
import { MembershipsResolver } from 'src/memberships/memberships.resolver';
import { MembershipsService } from 'src/memberships/memberships.service';
import { ProfileEntity } from 'src/memberships/profile.entity';
import {
  ActorMembershipsResolver,
  MembershipActorResolver,
  ProjectMembershipsResolver,
} from 'src/memberships/project-memberships.resolver';
import { ProjectsModule } from 'src/projects/projects.module';

@Module({
  exports: [MembershipsService],
  imports: [
    ActorsModule,
    ProjectsModule,
    TypeOrmModule.forFeature([MembershipEntity, ProfileEntity]),
  ],
  providers: [
    ActorMembershipsResolver,
    MembershipActorResolver,
    MembershipLoaders,
    MembershipsResolver,
    MembershipsService,
    ProjectMembershipsResolver,
  ],
})
export class MembershipsModule {}
