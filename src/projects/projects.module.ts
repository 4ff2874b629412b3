import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProjectEntity } from 'src/projects/project.entity';
import { ProjectsResolver } from 'src/projects/projects.resolver';
import { ProjectsService } from 'src/projects/projects.service';

@Module({
  exports: [ProjectsService],
  imports: [TypeOrmModule.forFeature([ProjectEntity])],
  providers: [ProjectsResolver, ProjectsService],
})
export class ProjectsModule {}
