import type { AuditRequest } from 'src/audit/audit-context';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { ActorSnapshot } from 'src/actors/actor-snapshot';
import { ActorsService, CLIENT_PRINCIPAL_NAMESPACE } from 'src/actors/actors.service';
import { BrowserSessionsService } from 'src/browser-sessions/browser-sessions.service';
import { GrantsService } from 'src/oauth/grants/grants.service';

/**
 * Ends every Bridgekeeper session of an actor: its grants (refresh tokens now, access tokens on every
 * node within a second) and its browser sessions. Used by `revokeSessions`, and whenever an actor is
 * disabled, so that enabling it again does not revive them.
 */
@Injectable()
export class ActorSessionsService implements OnModuleInit {
  constructor(
    private readonly grants: GrantsService,
    private readonly actors: ActorsService,
    private readonly browserSessions: BrowserSessionsService,
  ) {}

  onModuleInit(): void {
    this.actors.onDisabled(async (actor, from) => {
      await this.endAll(actor, from);
    });
  }

  /** Returns how many grants were open. */
  async endAll(actor: ActorSnapshot, from?: AuditRequest): Promise<number> {
    const grants = await this.grants.revokeActorSessions(
      actor.id,
      actor.issuerName === CLIENT_PRINCIPAL_NAMESPACE ? actor.subject : undefined,
      from,
    );
    await this.browserSessions.endAllForActor(actor.id);
    return grants;
  }
}
