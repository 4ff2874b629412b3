import type { AuditRequest } from 'src/audit/audit-context';
import { Injectable } from '@nestjs/common';
import { AccountsErrorCode } from 'src/accounts/accounts.errors';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { CLIENT_PRINCIPAL_NAMESPACE } from 'src/actors/actors.service';
import {
  BrowserSessionsService,
  type OwnBrowserSession,
} from 'src/browser-sessions/browser-sessions.service';
import { AppError } from 'src/common/errors/app-error';
import { ConsoleErrors } from 'src/console/console.errors';
import type { Principal } from 'src/identity/principal';
import { GrantsService } from 'src/oauth/grants/grants.service';
import { LoginThrottle } from 'src/web/login-throttle';

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
    private readonly throttle: LoginThrottle,
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
  async signOutEverywhere(caller: Principal, from?: AuditRequest): Promise<number> {
    const actorId = person(caller);
    const ended = await this.browserSessions.endAllForActor(actorId);
    await this.grants.revokeActorSessions(actorId, undefined, from);
    return ended;
  }

  /**
   * Changes the password, then ends the caller's other browser sessions and their grants. A wrong
   * current password counts as a failed sign-in (per account and per address, SECURITY rules 22, 27):
   * a stolen access token cannot be used to guess the password faster than the login page allows.
   */
  async changePassword(
    caller: Principal,
    current: string,
    next: string,
    address: string,
  ): Promise<void> {
    const actorId = person(caller);
    const key = `actor:${actorId}`;
    const before = await this.throttle.check(key, address);
    if (before.locked) throw ConsoleErrors.tooManyAttempts(before.retryAfterSeconds);
    try {
      await this.accounts.changePassword(actorId, current, next);
    } catch (err) {
      if (err instanceof AppError && err.code === AccountsErrorCode.WRONG_PASSWORD) {
        const after = await this.throttle.failed(key, address);
        if (after.locked) throw ConsoleErrors.tooManyAttempts(after.retryAfterSeconds);
      }
      throw err;
    }
    await this.throttle.succeeded(key);
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
