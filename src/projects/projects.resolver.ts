import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { ADMIN_ROLE, RequireRoles } from 'src/common/decorators/roles.decorator';
import { Project, toProjectModel } from 'src/projects/models/project.model';
import { ProjectsService } from 'src/projects/projects.service';

@Resolver(() => Project)
export class ProjectsResolver {
  constructor(private readonly projects: ProjectsService) {}

  @RequireRoles(ADMIN_ROLE)
  @Mutation(() => Project, { description: 'Create a project (ADMIN)' })
  async createProject(@Args('name') name: string): Promise<Project> {
    return toProjectModel(await this.projects.create(name));
  }
}
