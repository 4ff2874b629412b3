import { Field, ID, ObjectType } from '@nestjs/graphql';
import type { ProjectEntity } from 'src/projects/project.entity';

@ObjectType('Project', { description: 'A project: members are invited into it' })
export class Project {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field()
  createdAt: Date;
}

export function toProjectModel(p: ProjectEntity): Project {
  return { id: p.id, name: p.name, createdAt: p.createdAt };
}
