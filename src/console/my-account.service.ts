import { Injectable } from '@nestjs/common';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { CLIENT_PRINCIPAL_NAMESPACE } from 'src/actors/actors.service';
import {
  BrowserSessionsService,
  type OwnBrowserSession,
} from 'src/browser-sessions/browser-sessions.service';
import { ConsoleErrors } from 'src/console/console.errors';
import type { Principal } from 'src/identity/principal';
import { GrantsService } from 'src/oauth/grants/grants.service';

/**
 * A signed-in person's own account (issue 10, My account): their browser sessions, signing out of
 * them, changing their password. Only people: a client's principal, or a client acting for a member,
 * is refused.
 */
@Injectable()
export class MyAccountService {
  constructor(
    private readonly accounts: LocalAccountsService,
    private readonly browserSessions: BrowserSessionsService,
    private readonly grants: GrantsService,
  ) {}

  async sessions(caller: Principal): Promise<(OwnBrowserSession & { current: boolean })[]> {
    const actorId = person(caller);
    const [list, current] = await Promise.all([
      this.browserSessions.listLive(actorId),
      this.currentSession(caller),
    ]);
    return list.map((s) => ({ ...s, current: s.id === current }));
  }

  async endSession(caller: Principal, id: string): Promise<void> {
    if (!(await this.browserSessions.endOwn(person(caller), id))) {
      throw ConsoleErrors.sessionNotFound();
    }
  }

  /** Ends every browser session and every grant of the caller (this request's token included). */
  async signOutEverywhere(caller: Principal): Promise<number> {
    const actorId = person(caller);
    const ended = await this.browserSessions.endAllForActor(actorId);
    await this.grants.revokeActorSessions(actorId);
    return ended;
  }

  /** Changes the password, then ends the caller's other browser sessions and their grants. */
  async changePassword(caller: Principal, current: string, next: string): Promise<void> {
    const actorId = person(caller);
    await this.accounts.changePassword(actorId, current, next);
    const keep = await this.currentSession(caller);
    await this.browserSessions.endAllForActor(actorId, keep ?? undefined);
  }

  /** The browser session the caller's token was issued in (its grant's), if any. */
  private async currentSession(caller: Principal): Promise<string | null> {
    const grant = caller.own?.sid;
    return grant ? this.grants.browserSessionOf(grant) : null;
  }
}

function person(caller: Principal): string {
  if (caller.actor.issuerName === CLIENT_PRINCIPAL_NAMESPACE || caller.onBehalfOf) {
    throw ConsoleErrors.notAPerson();
  }
  return caller.actor.id;
}
