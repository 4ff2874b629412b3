import { Injectable } from '@nestjs/common';
import DataLoader from 'dataloader';
import type { ActorSnapshot } from 'src/actors/actor-snapshot';
import { ActorsService } from 'src/actors/actors.service';
import type { MembershipEntity } from 'src/memberships/membership.entity';
import { MembershipsService } from 'src/memberships/memberships.service';

interface Loaders {
  membershipsByProject: DataLoader<string, MembershipEntity[]>;
  membershipsByActor: DataLoader<string, MembershipEntity[]>;
  actorById: DataLoader<string, ActorSnapshot | null>;
}

/**
 * Per-request DataLoaders for the membership graph (project → memberships → actor, actor →
 * memberships): one query per kind and request, whatever the number of parents (no N+1). Keyed by the
 * request object, so they live exactly as long as the request.
 */
@Injectable()
export class MembershipLoaders {
  private readonly perRequest = new WeakMap<object, Loaders>();

  constructor(
    private readonly memberships: MembershipsService,
    private readonly actors: ActorsService,
  ) {}

  for(req: object): Loaders {
    let loaders = this.perRequest.get(req);
    if (!loaders) {
      loaders = {
        membershipsByProject: new DataLoader(async (projectIds) => {
          const rows = await this.memberships.byProjectIds(projectIds);
          return projectIds.map((id) => rows.filter((m) => m.projectId === id));
        }),
        membershipsByActor: new DataLoader(async (actorIds) => {
          const rows = await this.memberships.byActorIds(actorIds);
          return actorIds.map((id) => rows.filter((m) => m.actorId === id));
        }),
        actorById: new DataLoader(async (ids) => {
          const rows = await this.actors.findByIds(ids);
          return ids.map((id) => rows.find((a) => a.id === id) ?? null);
        }),
      };
      this.perRequest.set(req, loaders);
    }
    return loaders;
  }
}
