import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MembershipEntity } from 'src/memberships/membership.entity';
import { MembershipsResolver } from 'src/memberships/memberships.resolver';
import { MembershipsService } from 'src/memberships/memberships.service';
import { ProfileEntity } from 'src/memberships/profile.entity';
import { ProjectsModule } from 'src/projects/projects.module';

@Module({
  exports: [MembershipsService],
  imports: [ProjectsModule, TypeOrmModule.forFeature([MembershipEntity, ProfileEntity])],
  providers: [MembershipsResolver, MembershipsService],
})
export class MembershipsModule {}
