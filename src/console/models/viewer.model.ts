import { Field, ObjectType } from '@nestjs/graphql';
import { Actor } from 'src/actors/models/actor.model';
import { Delegation } from 'src/identity/models/delegation.model';
import { Project } from 'src/projects/models/project.model';

@ObjectType('Viewer', {
  description:
    'Who is signed in and what they may administer: the console shows pages by this (a server ADMIN sees everything, a project admin their projects, anyone else their own account)',
})
export class Viewer {
  @Field(() => Actor)
  actor: Actor;

  @Field({ description: 'Holds the ADMIN role: every page, every project' })
  isServerAdmin: boolean;

  @Field(() => [Project], {
    description: 'Projects the caller administers (every project for a server ADMIN), by name',
  })
  adminProjects: Project[];

  @Field(() => Delegation, {
    nullable: true,
    description:
      'Set when someone else acts for this person: the agent of a delegated token (RFC 8693 act), or the admin client acting on behalf of the member',
  })
  act?: Delegation | null;
}
