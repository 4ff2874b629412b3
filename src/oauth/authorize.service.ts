import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import {
  type BrowserSession,
  BrowserSessionsService,
} from 'src/browser-sessions/browser-sessions.service';
import { ClientRegistrationService } from 'src/oauth/client-registration.service';
import { matchesRegisteredUri } from 'src/clients/redirect-uris';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { GrantsService } from 'src/oauth/grants/grants.service';
import { isS256Challenge, PKCE_METHOD } from 'src/oauth/pkce';
import { checkedPersonScope } from 'src/oauth/resource-target';
import {
  type ResourceKind,
  allowedResourcesText,
  requestedResource,
} from 'src/token-validation/oauth-resources';

export const AUTHORIZE_PATH = '/oauth2/authorize';
export const LOGIN_PATH = '/login';
/**
 * Internal parameter of the URL the login page returns to after `prompt=login` or an exceeded
 * `max_age`: the person must have authenticated at or after this time (seconds since the epoch), so
 * the forced login is not asked for again. Only the person's own browser carries it back.
 */
export const AUTH_AFTER_PARAM = 'bk_auth_after';

/** RFC 6749 §4.1.2.1 and OIDC Core §3.1.2.6 error codes sent back to a verified redirect URI. */
export type AuthorizeErrorCode =
  | 'invalid_request'
  | 'unauthorized_client'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'login_required'
  | 'consent_required'
  | 'access_denied'
  | 'request_not_supported'
  | 'request_uri_not_supported'
  | 'server_error';

/** What `GET /oauth2/authorize` answers. */
export type AuthorizeOutcome =
  /** The client or its redirect URI could not be verified: never redirect, show a page. */
  | { kind: 'page'; status: number; title: string; message: string }
  /** The authorization response (a code or an error) at the verified redirect URI. */
  | { kind: 'client'; location: string }
  /** The person must sign in first; the login page returns to `location`'s `return_to`. */
  | { kind: 'login'; location: string }
  /** A self-registered client: the person approves it first (the consent page posts `query` back). */
  | { kind: 'consent'; consent: ConsentRequest };

/** What the consent page shows and posts back. */
export interface ConsentRequest {
  clientId: string;
  clientName: string;
  redirectUri: string;
  scope: string[];
  resource: ResourceKind;
  sessionId: string;
  /** The authorization request's query string, re-run on approval. */
  query: string;
}

export interface AuthorizeOptions {
  /** The authorization request's parameters (default: the request's query). */
  query?: unknown;
  /** The person's answer on the consent page. */
  consent?: 'approved' | 'denied';
}

const MAX_PARAM = 2048;
const MAX_NONCE = 512;
const MAX_LOGIN_HINT = 256;

/**
 * The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2, RFC 7636, RFC 9207, RFC 8252): the code
 * flow only, PKCE S256 required, the redirect URI matched exactly against the client's registered
 * list. Until the client and redirect URI are verified, every problem is a page and never a redirect
 * (no open redirector); after that, errors go to the client with `state` and `iss`.
 */
@Injectable()
export class AuthorizeService {
  constructor(
    private readonly registrations: ClientRegistrationService,
    private readonly sessions: BrowserSessionsService,
    private readonly grants: GrantsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async authorize(
    request: FastifyRequest,
    options: AuthorizeOptions = {},
  ): Promise<AuthorizeOutcome> {
    const params = singleParams(options.query ?? request.query);
    if (!params.ok) {
      // Repeated client_id or redirect_uri: the target cannot be trusted.
      if (params.repeated.some((p) => p === 'client_id' || p === 'redirect_uri')) {
        return page(400, 'client_id and redirect_uri must be given once.');
      }
    }
    const q = params.values;
    const clientId = q.get('client_id');
    if (clientId === undefined) return page(400, 'The request names no client (client_id).');
    // A registered client, or a Client ID Metadata Document's URL (fetched and kept as one).
    const client = await this.registrations.resolveClient(clientId);
    if (
      !client ||
      client.status !== 'ACTIVE' ||
      !client.grantTypes.includes('authorization_code')
    ) {
      return page(400, 'This application is not registered for sign-in here.');
    }
    const redirectUri = q.get('redirect_uri');
    if (redirectUri === undefined || !matchesRegisteredUri(redirectUri, client.redirectUris)) {
      return page(400, 'The application asked to return to an address it has not registered.');
    }
    const state = q.get('state');
    const toClient = (error: AuthorizeErrorCode, description: string): AuthorizeOutcome =>
      this.response(redirectUri, { error, error_description: description, state });

    if (!params.ok) {
      return toClient('invalid_request', `${params.repeated[0]} was sent more than once`);
    }
    if (state !== undefined && state.length > MAX_PARAM) {
      return this.response(redirectUri, {
        error: 'invalid_request',
        error_description: 'state is too long',
      });
    }
    if (q.has('request'))
      return toClient('request_not_supported', 'request objects are not supported');
    if (q.has('request_uri')) {
      return toClient('request_uri_not_supported', 'request_uri is not supported');
    }
    const responseType = q.get('response_type');
    if (responseType === undefined) return toClient('invalid_request', 'response_type is required');
    if (responseType !== 'code') {
      return toClient('unsupported_response_type', 'Only response_type=code is supported');
    }
    const responseMode = q.get('response_mode');
    if (responseMode !== undefined && responseMode !== 'query') {
      return toClient('invalid_request', 'Only response_mode=query is supported');
    }
    const challenge = q.get('code_challenge');
    const method = q.get('code_challenge_method');
    if (challenge === undefined) {
      return toClient('invalid_request', 'PKCE is required: code_challenge with S256');
    }
    if (method !== PKCE_METHOD) {
      return toClient('invalid_request', 'code_challenge_method must be S256');
    }
    if (!isS256Challenge(challenge)) {
      return toClient('invalid_request', 'code_challenge is not an S256 challenge');
    }
    // RFC 8707 §2: the resource the tokens will be for (the API unless named), from the allow-list.
    const resource = requestedResource(this.config, q.get('resource'));
    if (resource === 'invalid') {
      return toClient(
        'invalid_target',
        `resource must be one of ${allowedResourcesText(this.config)}`,
      );
    }
    const scope = checkedPersonScope(client, q.get('scope'), resource);
    if (typeof scope === 'string') return toClient('invalid_scope', scope);
    const nonce = q.get('nonce');
    if (nonce !== undefined && nonce.length > MAX_NONCE) {
      return toClient('invalid_request', 'nonce is too long');
    }
    const prompt = parsePrompt(q.get('prompt'));
    if (prompt === undefined) {
      return toClient('invalid_request', 'prompt must be none or login');
    }
    const maxAge = parseMaxAge(q.get('max_age'));
    if (maxAge === null) return toClient('invalid_request', 'max_age must be a whole number');
    const loginHint = q.get('login_hint');
    if (loginHint !== undefined && loginHint.length > MAX_LOGIN_HINT) {
      return toClient('invalid_request', 'login_hint is too long');
    }
    const authAfter = parseMaxAge(q.get(AUTH_AFTER_PARAM)) ?? undefined;

    const session = await this.sessions.current(request);
    const now = Math.floor(Date.now() / 1000);
    const fresh = (s: BrowserSession): boolean =>
      (authAfter === undefined || s.authTime >= authAfter) &&
      (maxAge === undefined || now - s.authTime <= maxAge);
    // prompt=login wants a new authentication unless the person just did it for this very request.
    const mustLogin =
      !session || (prompt === 'login' && authAfter === undefined) || !fresh(session);
    if (mustLogin) {
      if (prompt === 'none') {
        return toClient('login_required', 'The person must sign in');
      }
      return this.toLogin(q, now, session !== null, loginHint);
    }
    // A client that registered itself gets a code only once the person approved it (issue 11 §1).
    if (client.registration === 'dynamic' && options.consent !== 'approved') {
      if (options.consent === 'denied') {
        return toClient('access_denied', 'The person did not approve the application');
      }
      if (prompt === 'none') {
        return toClient('consent_required', 'The person must approve the application');
      }
      const query = new URLSearchParams([...q].filter(([k]) => k !== AUTH_AFTER_PARAM));
      if (authAfter !== undefined) query.set(AUTH_AFTER_PARAM, String(authAfter));
      return {
        kind: 'consent',
        consent: {
          clientId: client.clientId,
          clientName: client.name,
          redirectUri,
          scope,
          resource,
          sessionId: session.id,
          query: query.toString(),
        },
      };
    }
    const code = await this.grants.issueCode({
      clientId: client.clientId,
      actorId: session.actorId,
      redirectUri,
      codeChallenge: challenge,
      scope,
      nonce,
      browserSessionId: session.id,
      authTime: session.authTime,
      amr: session.amr,
      resource,
    });
    return this.response(redirectUri, { code, state });
  }

  /**
   * 303 to the login page, which returns to this same authorization request. A forced login (prompt,
   * max_age, or a session whose authentication is too old) shows the form even with a session, and
   * the way back carries the time after which the authentication must have happened.
   */
  private toLogin(
    q: Map<string, string>,
    now: number,
    forced: boolean,
    loginHint: string | undefined,
  ): AuthorizeOutcome {
    const back = new URLSearchParams();
    for (const [k, v] of q) {
      if (k === AUTH_AFTER_PARAM || (k === 'prompt' && forced)) continue;
      back.set(k, v);
    }
    if (forced || q.get('prompt') === 'login' || q.has('max_age')) {
      back.set(AUTH_AFTER_PARAM, String(now));
    }
    const login = new URLSearchParams({ return_to: `${AUTHORIZE_PATH}?${back.toString()}` });
    if (forced) login.set('prompt', 'login');
    if (loginHint !== undefined) login.set('login_hint', loginHint);
    return { kind: 'login', location: `${LOGIN_PATH}?${login.toString()}` };
  }

  /** The authorization response at the verified redirect URI, with RFC 9207 `iss` always. */
  private response(
    redirectUri: string,
    params: Record<string, string | undefined>,
  ): AuthorizeOutcome {
    const url = new URL(redirectUri);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    url.searchParams.set('iss', this.config.publicUrl);
    return { kind: 'client', location: url.href };
  }
}

function page(status: number, message: string): AuthorizeOutcome {
  return { kind: 'page', status, title: 'Sign-in request refused', message };
}

/** Query parameters that occur once; empty values count as absent (RFC 6749 §3.1). */
function singleParams(
  query: unknown,
):
  | { ok: true; values: Map<string, string> }
  | { ok: false; values: Map<string, string>; repeated: string[] } {
  const values = new Map<string, string>();
  const repeated: string[] = [];
  if (query && typeof query === 'object') {
    for (const [k, v] of Object.entries(query as Record<string, unknown>)) {
      if (Array.isArray(v)) {
        repeated.push(/^[a-z_]{1,40}$/.test(k) ? k : 'a parameter');
        continue;
      }
      if (typeof v === 'string' && v !== '' && v.length <= MAX_PARAM * 4) values.set(k, v);
    }
  }
  return repeated.length > 0 ? { ok: false, values, repeated } : { ok: true, values };
}

/** `none`, `login`, or nothing; undefined for anything else (including both at once). */
function parsePrompt(v: string | undefined): 'none' | 'login' | '' | undefined {
  if (v === undefined) return '';
  return v === 'none' || v === 'login' ? v : undefined;
}

/** A non-negative integer, undefined when absent, null when malformed. */
function parseMaxAge(v: string | undefined): number | undefined | null {
  if (v === undefined) return undefined;
  return /^\d{1,10}$/.test(v) ? Number(v) : null;
}
