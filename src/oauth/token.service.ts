import type { AuditRequest } from 'src/audit/audit-context';
import { Injectable } from '@nestjs/common';
import { ActorsService } from 'src/actors/actors.service';
import type { ClientSnapshot } from 'src/clients/client-snapshot';
import type { ClientGrantType } from 'src/clients/client.entity';
import { AppError } from 'src/common/errors/app-error';
import type { MembershipSnapshot } from 'src/memberships/membership-snapshot';
import { MembershipsService } from 'src/memberships/memberships.service';
import { AccessTokensService } from 'src/oauth/access-tokens.service';
import { GrantsService } from 'src/oauth/grants/grants.service';
import { type OauthForm, parseScope } from 'src/oauth/oauth-form';
import { IdTokensService } from 'src/oauth/id-tokens.service';
import { OFFLINE_ACCESS, OIDC_SCOPES, OPENID } from 'src/oauth/scopes';
import { TokenExchangeService } from 'src/oauth/token-exchange.service';
import { OauthErrors } from 'src/oauth/oauth.errors';

export const GRANT_CLIENT_CREDENTIALS = 'client_credentials';
export const GRANT_REFRESH_TOKEN = 'refresh_token';
export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const GRANT_AUTHORIZATION_CODE = 'authorization_code';

/** RFC 6749 §5.1 (and RFC 8693 §2.2.1 for `issued_token_type`). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  issued_token_type?: string;
  /** OIDC Core §3.1.3.3: with the `openid` scope. */
  id_token?: string;
}

/** The grants of `POST /oauth2/token`, after the client has authenticated. */
@Injectable()
export class TokenService {
  constructor(
    private readonly accessTokens: AccessTokensService,
    private readonly grants: GrantsService,
    private readonly actors: ActorsService,
    private readonly memberships: MembershipsService,
    private readonly exchanges: TokenExchangeService,
    private readonly idTokens: IdTokensService,
  ) {}

  /** `from`: the token request, for the audit log (token exchange, refresh-token reuse). */
  async grant(
    client: ClientSnapshot,
    form: OauthForm,
    from?: AuditRequest,
  ): Promise<TokenResponse> {
    const grantType = form.require('grant_type');
    switch (grantType) {
      case GRANT_CLIENT_CREDENTIALS:
        this.assertAllowed(client, 'client_credentials');
        return this.clientCredentials(client, form);
      case GRANT_REFRESH_TOKEN:
        this.assertAllowed(client, 'refresh_token');
        return this.refresh(client, form, from);
      case GRANT_TOKEN_EXCHANGE:
        this.assertAllowed(client, 'token_exchange');
        return this.exchanges.exchange(client, form, from);
      case GRANT_AUTHORIZATION_CODE:
        this.assertAllowed(client, 'authorization_code');
        return this.authorizationCode(client, form);
      default:
        throw OauthErrors.unsupportedGrantType();
    }
  }

  private assertAllowed(client: ClientSnapshot, grant: ClientGrantType): void {
    if (!client.grantTypes.includes(grant)) {
      throw OauthErrors.unauthorizedClient('The client may not use this grant type');
    }
  }

  /**
   * RFC 6749 §4.4: a token for the client's own principal (`sub` = `client_id`, RFC 9068 §2.2), with the
   * requested scopes (all the client's scopes when none are asked for), never a refresh token.
   */
  private async clientCredentials(client: ClientSnapshot, form: OauthForm): Promise<TokenResponse> {
    const requested = parseScope(form.get('scope'));
    if (requested?.includes(OFFLINE_ACCESS)) {
      throw OauthErrors.invalidScope('offline_access is not available with client credentials');
    }
    const scope = grantedScope(requested, client.scopes).filter((s) => s !== OFFLINE_ACCESS);
    const at = await this.accessTokens.issue({
      sub: client.clientId,
      clientId: client.clientId,
      scope,
      project: client.projectId ?? undefined,
    });
    return {
      access_token: at.token,
      token_type: 'Bearer',
      expires_in: at.expiresIn,
      scope: at.scope.join(' '),
    };
  }

  /**
   * RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5): the code, its redirect URI and verifier. The grant it
   * opens carries the browser session; the access token names the grant (`sid`), so ending either ends
   * the token. An ID token with `openid`, a refresh token with `offline_access` (if the client may).
   */
  private async authorizationCode(client: ClientSnapshot, form: OauthForm): Promise<TokenResponse> {
    const code = form.require('code');
    const redirectUri = form.require('redirect_uri');
    const codeVerifier = form.require('code_verifier');
    const {
      code: row,
      grant,
      refreshToken,
    } = await this.grants.redeemCode({
      clientId: client.clientId,
      code,
      redirectUri,
      codeVerifier,
      withRefresh: (scope) =>
        scope.includes(OFFLINE_ACCESS) && client.grantTypes.includes('refresh_token'),
    });
    // The person may have been disabled between the login and the redemption.
    const actor = await this.actors.snapshotById(grant.actorId).catch((err: unknown) => {
      if (err instanceof AppError && err.kind === 'INVALID_TOKEN') return undefined;
      throw err;
    });
    if (actor?.status !== 'ACTIVE') {
      await this.grants.revoke(grant.id, 'actor_disabled');
      throw OauthErrors.invalidGrant('actor_disabled');
    }
    const at = await this.accessTokens.issue({
      sub: grant.actorId,
      clientId: client.clientId,
      scope: grant.scope,
      sid: grant.id,
    });
    const response: TokenResponse = {
      access_token: at.token,
      token_type: 'Bearer',
      expires_in: at.expiresIn,
      scope: at.scope.join(' '),
    };
    if (refreshToken) response.refresh_token = refreshToken;
    if (grant.scope.includes(OPENID)) {
      response.id_token = await this.idTokens.issue({
        sub: grant.actorId,
        clientId: client.clientId,
        sid: row.browserSessionId,
        authTime: row.authTime,
        amr: row.amr,
        nonce: row.nonce ?? undefined,
        accessToken: at.token,
      });
    }
    return response;
  }

  /** RFC 6749 §6 with rotation: a new refresh token every time; the scope can only narrow. */
  private async refresh(
    client: ClientSnapshot,
    form: OauthForm,
    from: AuditRequest | undefined,
  ): Promise<TokenResponse> {
    const presented = form.require('refresh_token');
    const requested = parseScope(form.get('scope'));
    if (requested !== undefined) {
      // A wider scope is refused before the refresh token is used up (so the client can retry with it);
      // a used one still goes to rotate, whose reuse detection must not be bypassed.
      const found = await this.grants.findRefresh(presented);
      if (found && found.grant.clientId === client.clientId && !found.row.usedAt)
        grantedScope(requested, stillAllowed(found.grant.scope, client));
    }
    const { grant, refreshToken } = await this.grants.rotate(
      client.clientId,
      presented,
      client.tokensRevokedAt ? new Date(client.tokensRevokedAt) : undefined,
      from,
    );
    const scope = grantedScope(requested, stillAllowed(grant.scope, client));
    // The person behind the grant must still be allowed in, and so must the membership, whose project
    // the new token names as the first one did.
    let membership: MembershipSnapshot | undefined;
    try {
      const actor = await this.actors.snapshotById(grant.actorId);
      if (actor.status !== 'ACTIVE') throw OauthErrors.invalidGrant('actor_disabled');
      if (grant.membershipId) {
        membership = await this.memberships.forOwnToken(grant.membershipId, actor.id);
      }
    } catch (err) {
      if (err instanceof AppError && err.kind === 'INVALID_TOKEN') {
        throw OauthErrors.invalidGrant(err.reason ?? 'subject_refused');
      }
      throw err;
    }
    const at = await this.accessTokens.issue({
      sub: grant.actorId,
      clientId: client.clientId,
      scope,
      sid: grant.id,
      membership: membership?.id,
      project: membership?.projectId,
      notAfter: Math.floor(grant.expiresAt.getTime() / 1000),
    });
    return {
      access_token: at.token,
      token_type: 'Bearer',
      expires_in: at.expiresIn,
      scope: at.scope.join(' '),
      refresh_token: refreshToken,
    };
  }
}

/**
 * A grant's scopes that its client may still be granted (an admin may have narrowed the client since);
 * the OpenID scopes of a sign-in grant are every code-flow client's.
 */
function stillAllowed(grantScope: string[], client: ClientSnapshot): string[] {
  const oidc = client.grantTypes.includes('authorization_code') ? OIDC_SCOPES : [];
  return grantScope.filter((s) => client.scopes.includes(s) || oidc.includes(s));
}

/** The requested scopes if all are allowed (else `invalid_scope`: never widened), or all allowed. */
export function grantedScope(requested: string[] | undefined, allowed: string[]): string[] {
  if (requested === undefined) return [...allowed];
  if (requested.some((s) => !allowed.includes(s))) throw OauthErrors.invalidScope();
  return requested;
}
