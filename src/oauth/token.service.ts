import type { AuditRequest } from 'src/audit/audit-context';
import { Inject, Injectable } from '@nestjs/common';
import { ActorsService } from 'src/actors/actors.service';
import type { ClientSnapshot } from 'src/clients/client-snapshot';
import type { ClientGrantType } from 'src/clients/client.entity';
import { AppError } from 'src/common/errors/app-error';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import type { MembershipSnapshot } from 'src/memberships/membership-snapshot';
import { MembershipsService } from 'src/memberships/memberships.service';
import { AccessTokensService } from 'src/oauth/access-tokens.service';
import { GrantsService } from 'src/oauth/grants/grants.service';
import { type OauthForm, parseScope } from 'src/oauth/oauth-form';
import { DeviceCodesService } from 'src/oauth/device-codes.service';
import { IdTokensService } from 'src/oauth/id-tokens.service';
import { OFFLINE_ACCESS, OIDC_SCOPES, OPENID } from 'src/oauth/scopes';
import { TokenExchangeService } from 'src/oauth/token-exchange.service';
import { OauthErrors } from 'src/oauth/oauth.errors';
import {
  assertScopeFitsResource,
  defaultScopeFor,
  scopesForResource,
  targetResource,
} from 'src/oauth/resource-target';
import type { ResourceKind } from 'src/token-validation/oauth-resources';

export const GRANT_CLIENT_CREDENTIALS = 'client_credentials';
export const GRANT_REFRESH_TOKEN = 'refresh_token';
export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const GRANT_AUTHORIZATION_CODE = 'authorization_code';
export const GRANT_DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

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
    private readonly devices: DeviceCodesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
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
      case GRANT_DEVICE_CODE:
        this.assertAllowed(client, 'device_code');
        return this.deviceCode(client, form);
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
   * requested scopes (all the client's scopes when none are asked for), never a refresh token. With
   * `resource` (RFC 8707) the token is for that resource: the MCP endpoint's carries the MCP scopes.
   */
  private async clientCredentials(client: ClientSnapshot, form: OauthForm): Promise<TokenResponse> {
    const resource = targetResource(this.config, form.get('resource'));
    const requested = parseScope(form.get('scope'));
    if (requested?.includes(OFFLINE_ACCESS)) {
      throw OauthErrors.invalidScope('offline_access is not available with client credentials');
    }
    if (requested) assertScopeFitsResource(resource, requested);
    const allowed = scopesForResource(resource, client.scopes).filter((s) => s !== OFFLINE_ACCESS);
    const scope = requested
      ? grantedScope(requested, allowed)
      : defaultScopeFor(resource, allowed).filter((s) => s !== OFFLINE_ACCESS);
    const at = await this.accessTokens.issue({
      sub: client.clientId,
      clientId: client.clientId,
      scope,
      project: client.projectId ?? undefined,
      resource,
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
    // RFC 8707 §2.2: the resource, if named again here, must be the one the code was asked for.
    const resourceParam = form.get('resource');
    const resource =
      resourceParam === undefined ? undefined : targetResource(this.config, resourceParam);
    const {
      code: row,
      grant,
      refreshToken,
    } = await this.grants.redeemCode({
      clientId: client.clientId,
      code,
      redirectUri,
      codeVerifier,
      resource,
      mayRefresh: client.grantTypes.includes('refresh_token'),
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
    // A client limited to a project signs in only that project's active members, checked again here
    // (the membership may have ended since the login); the grant keeps the membership for its refreshes.
    let membership: MembershipSnapshot | undefined;
    if (client.projectId !== null) {
      try {
        membership = await this.memberships.forActorInProject(actor, client.projectId);
      } catch (err) {
        if (
          !(err instanceof AppError) ||
          (err.kind !== 'FORBIDDEN' && err.kind !== 'INVALID_TOKEN')
        )
          throw err;
        await this.grants.revoke(grant.id, 'not_in_project');
        throw OauthErrors.invalidGrant('not_in_project');
      }
      await this.grants.setMembership(grant.id, membership.id);
    }
    const at = await this.accessTokens.issue({
      sub: grant.actorId,
      clientId: client.clientId,
      scope: grant.scope,
      sid: grant.id,
      membership: membership?.id,
      project: membership?.projectId,
      resource: grant.resource,
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

  /**
   * RFC 8628 §3.4: the device code of a request the person approved, once. The grant it opens names the
   * browser session it was approved in (signing out there ends it); a refresh token with
   * `offline_access` (if the client may); the access token for the resource the request named.
   */
  private async deviceCode(client: ClientSnapshot, form: OauthForm): Promise<TokenResponse> {
    const row = await this.devices.redeem(client.clientId, form.require('device_code'));
    const actorId = row.actorId!;
    const actor = await this.actors.snapshotById(actorId).catch((err: unknown) => {
      if (err instanceof AppError && err.kind === 'INVALID_TOKEN') return undefined;
      throw err;
    });
    if (actor?.status !== 'ACTIVE') throw OauthErrors.invalidGrant('actor_disabled');
    const newGrant = {
      clientId: client.clientId,
      actorId,
      scope: row.scope,
      browserSessionId: row.browserSessionId ?? undefined,
      resource: row.resource,
    };
    const withRefresh =
      row.scope.includes(OFFLINE_ACCESS) && client.grantTypes.includes('refresh_token');
    let refreshToken: string | undefined;
    let grant;
    if (withRefresh) ({ grant, refreshToken } = await this.grants.create(newGrant));
    else grant = await this.grants.createWithoutRefresh(newGrant);
    const at = await this.accessTokens.issue({
      sub: actorId,
      clientId: client.clientId,
      scope: row.scope,
      sid: grant.id,
      resource: row.resource,
    });
    return {
      access_token: at.token,
      token_type: 'Bearer',
      expires_in: at.expiresIn,
      scope: at.scope.join(' '),
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    };
  }

  /**
   * RFC 6749 §6 with rotation: a new refresh token every time; the scope can only narrow, and the
   * resource stays the one the grant was made for (RFC 8707 §2.2: another is `invalid_target`).
   */
  private async refresh(
    client: ClientSnapshot,
    form: OauthForm,
    from: AuditRequest | undefined,
  ): Promise<TokenResponse> {
    const presented = form.require('refresh_token');
    const requested = parseScope(form.get('scope'));
    const resourceParam = form.get('resource');
    const resource =
      resourceParam === undefined ? undefined : targetResource(this.config, resourceParam);
    if (requested !== undefined || resource !== undefined) {
      // A wider scope or another resource is refused before the refresh token is used up (so the client
      // can retry with it); a used one still goes to rotate, whose reuse detection must not be bypassed.
      const found = await this.grants.findRefresh(presented);
      if (found && found.grant.clientId === client.clientId && !found.row.usedAt) {
        assertSameResource(found.grant.resource, resource);
        if (requested !== undefined) grantedScope(requested, stillAllowed(found.grant, client));
      }
    }
    const { grant, refreshToken } = await this.grants.rotate(
      client.clientId,
      presented,
      client.tokensRevokedAt ? new Date(client.tokensRevokedAt) : undefined,
      from,
    );
    assertSameResource(grant.resource, resource);
    const scope = grantedScope(requested, stillAllowed(grant, client));
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
      resource: grant.resource,
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
function stillAllowed(
  grant: { scope: string[]; resource: ResourceKind },
  client: ClientSnapshot,
): string[] {
  const oidc = client.grantTypes.includes('authorization_code') ? OIDC_SCOPES : [];
  const own = scopesForResource(grant.resource, client.scopes);
  return grant.scope.filter((s) => own.includes(s) || oidc.includes(s));
}

/** RFC 8707 §2.2: a refresh names no resource, or the grant's own. */
function assertSameResource(granted: ResourceKind, requested: ResourceKind | undefined): void {
  if (requested !== undefined && requested !== granted) {
    throw OauthErrors.invalidTarget('The grant was made for another resource');
  }
}

/** The requested scopes if all are allowed (else `invalid_scope`: never widened), or all allowed. */
export function grantedScope(requested: string[] | undefined, allowed: string[]): string[] {
  if (requested === undefined) return [...allowed];
  if (requested.some((s) => !allowed.includes(s))) throw OauthErrors.invalidScope();
  return requested;
}
