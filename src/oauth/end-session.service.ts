import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BrowserSessionsService } from 'src/browser-sessions/browser-sessions.service';
import { ClientsService } from 'src/clients/clients.service';
import { GrantsService } from 'src/oauth/grants/grants.service';
import { IdTokensService } from 'src/oauth/id-tokens.service';
import { SsoLoginService } from 'src/sso/sso-login.service';

export const END_SESSION_CSRF_PURPOSE = 'end_session';
const MAX_PARAM = 2048;

/** The parameters of RP-initiated logout (RP-Initiated Logout 1.0 §2), from the query or a form. */
export interface EndSessionParams {
  id_token_hint?: string;
  post_logout_redirect_uri?: string;
  state?: string;
  client_id?: string;
}

/** What `/oauth2/end_session` answers. */
export type EndSessionOutcome =
  | { kind: 'page'; status: number; title: string; message: string }
  /** Ask the person: a form that POSTs back here with a CSRF token bound to the session. */
  | {
      kind: 'confirm';
      sessionId: string;
      params: EndSessionParams;
      location?: string;
      /** The SSO provider's sign-out origin the confirmed POST may be redirected to (CSP). */
      upstreamOrigin?: string;
    }
  /** Done: to the client's registered post-logout URI, or a "signed out" page. */
  | { kind: 'done'; location?: string };

/**
 * RP-initiated logout: with a valid `id_token_hint` (an expired one is accepted, its signature is still
 * verified) the browser session it names ends at once; without one the person confirms with a
 * CSRF-protected POST. The `post_logout_redirect_uri` must be one the client registered, exactly
 * (otherwise a page, never a redirect). Ending a session ends the grants made in it, access tokens
 * included, on every node: here, and however else a browser session ends (the login pages' logout, a
 * new login in the same browser, a password reset), through `BrowserSessionsService.onEnded`.
 */
@Injectable()
export class EndSessionService implements OnModuleInit {
  constructor(
    private readonly sessions: BrowserSessionsService,
    private readonly clients: ClientsService,
    private readonly grants: GrantsService,
    private readonly idTokens: IdTokensService,
    private readonly sso: SsoLoginService,
  ) {}

  onModuleInit(): void {
    this.sessions.onEnded(async (sessionId) => {
      await this.grants.revokeBrowserSession(sessionId);
    });
  }

  /**
   * `confirmation`: for the POST of the confirmation form, whether its CSRF token (and Origin) is
   * genuine for this browser session (the person clicked "Sign out" on our page).
   */
  async endSession(
    request: FastifyRequest,
    reply: FastifyReply,
    params: EndSessionParams,
    confirmation?: (sessionId: string) => boolean,
  ): Promise<EndSessionOutcome> {
    for (const v of Object.values(params)) {
      if (v !== undefined && v.length > MAX_PARAM * 4) return refused('A parameter is too long.');
    }
    let clientId = params.client_id;
    let hintedSid: string | undefined;
    if (params.id_token_hint !== undefined) {
      const hint = await this.idTokens.verifyHint(params.id_token_hint);
      if (!hint) return refused('The sign-out request carries an ID token that is not ours.');
      if (clientId !== undefined && clientId !== hint.clientId) {
        return refused('The sign-out request names two different applications.');
      }
      clientId = hint.clientId;
      hintedSid = hint.sid;
    }
    let location: string | undefined;
    if (params.post_logout_redirect_uri !== undefined) {
      const client =
        clientId === undefined ? undefined : await this.clients.findByClientId(clientId);
      if (!client || !client.postLogoutRedirectUris.includes(params.post_logout_redirect_uri)) {
        return refused('The application asked to return to an address it has not registered.');
      }
      const url = new URL(params.post_logout_redirect_uri);
      if (params.state !== undefined) url.searchParams.set('state', params.state);
      location = url.href;
    }
    const current = await this.sessions.current(request);
    if (hintedSid !== undefined) {
      await this.end(hintedSid);
      if (current?.id !== hintedSid) return { kind: 'done', location };
      this.sessions.clearCookie(reply);
      return { kind: 'done', location: await this.upstream(hintedSid, location) };
    }
    if (!current) return { kind: 'done', location };
    if (!confirmation) {
      const upstreamOrigin = await this.sso.upstreamOrigin(current.id);
      return {
        kind: 'confirm',
        sessionId: current.id,
        params,
        location,
        ...(upstreamOrigin ? { upstreamOrigin } : {}),
      };
    }
    if (!confirmation(current.id)) {
      return {
        kind: 'page',
        status: 403,
        title: 'Sign-out not confirmed',
        message: 'The sign-out form expired or was not sent from this site. Please try again.',
      };
    }
    await this.end(current.id);
    this.sessions.clearCookie(reply);
    return { kind: 'done', location: await this.upstream(current.id, location) };
  }

  /**
   * This browser's session came through an SSO provider that advertises an `end_session_endpoint`: the
   * sign-out continues there, then comes back and goes on to `location` (issue 9 §2, §4).
   */
  private async upstream(sessionId: string, location?: string): Promise<string | undefined> {
    return (await this.sso.upstreamLogout(sessionId, location)) ?? location;
  }

  /**
   * The browser session and every grant made in it (codes not redeemed yet included). Ending the session
   * already ends its grants (the `onEnded` listener); the second, idempotent call ends them even when
   * the hinted session had already ended or expired (then `end` has nothing to end and tells no one).
   */
  private async end(sessionId: string): Promise<void> {
    await this.sessions.end(sessionId);
    await this.grants.revokeBrowserSession(sessionId);
  }
}

function refused(message: string): EndSessionOutcome {
  return { kind: 'page', status: 400, title: 'Sign-out request refused', message };
}
