import { Global, Module } from '@nestjs/common';
import { MembershipsModule } from 'src/memberships/memberships.module';
import { MembershipsService } from 'src/memberships/memberships.service';
import { ProjectAccess } from 'src/projects/project-access';

/**
 * Memberships answers the projects module's `ProjectAccess` port (who may manage a project). Global,
 * because the projects module cannot import memberships: memberships imports projects.
 */
@Global()
@Module({
  exports: [ProjectAccess],
  imports: [MembershipsModule],
  providers: [{ provide: ProjectAccess, useExisting: MembershipsService }],
})
export class ProjectAccessModule {}
