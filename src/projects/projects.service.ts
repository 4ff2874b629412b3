import type { AuditRequest } from 'src/audit/audit-context';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, type Repository } from 'typeorm';
import { AuditService } from 'src/audit/audit.service';
import { isUuid } from 'src/common/validation/uuid';
import { dbCall } from 'src/common/errors/db-errors';
import { ProjectEntity } from 'src/projects/project.entity';
import { ProjectsErrors } from 'src/projects/projects.errors';

@Injectable()
export class ProjectsService {
  constructor(
    @InjectRepository(ProjectEntity) private readonly repo: Repository<ProjectEntity>,
    private readonly audit: AuditService,
  ) {}

  create(name: string, from?: AuditRequest): Promise<ProjectEntity> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 200) throw ProjectsErrors.invalidName();
    return dbCall(() =>
      this.repo.manager.transaction(async (m) => {
        const repo = m.getRepository(ProjectEntity);
        const project = await repo.save(repo.create({ name: trimmed }));
        await this.audit.record(
          m,
          {
            action: 'project.create',
            targetType: 'project',
            targetId: project.id,
            projectId: project.id,
            details: { name: trimmed },
          },
          from,
        );
        return project;
      }),
    );
  }

  /** The project, or a 404; a malformed id is a 400. */
  async get(id: string): Promise<ProjectEntity> {
    if (!isUuid(id)) throw ProjectsErrors.invalidId();
    const project = await dbCall(() => this.repo.findOneBy({ id }));
    if (!project) throw ProjectsErrors.notFound();
    return project;
  }

  /** Every project (ids = undefined) or the given ones, by name. */
  list(ids?: string[]): Promise<ProjectEntity[]> {
    return dbCall(() =>
      this.repo.find({ where: ids ? { id: In(ids) } : {}, order: { name: 'ASC', id: 'ASC' } }),
    );
  }

  findByIds(ids: readonly string[]): Promise<ProjectEntity[]> {
    return dbCall(() => this.repo.findBy({ id: In([...ids]) }));
  }
}
