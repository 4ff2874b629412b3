import type { ActorClaim } from 'src/token-validation/token-claims';
import { Injectable } from '@nestjs/common';
import type { ClientSnapshot } from 'src/clients/client-snapshot';
import { AppError } from 'src/common/errors/app-error';
import { IdentityService } from 'src/identity/identity.service';
import type { Principal } from 'src/identity/principal';
import { GrantsService, looksLikeRefreshToken } from 'src/oauth/grants/grants.service';
import { OauthErrors } from 'src/oauth/oauth.errors';
import { RevocationService } from 'src/revocation/revocation.service';
import { TokenValidationService } from 'src/token-validation/token-validation.service';

/** RFC 7662 §2.2. Inactive tokens get `{ active: false }` and nothing else. */
export interface IntrospectionResponse {
  active: boolean;
  scope?: string;
  client_id?: string;
  sub?: string;
  exp?: number;
  iat?: number;
  iss?: string;
  aud?: string;
  jti?: string;
  sid?: string;
  token_type?: string;
  /** RFC 8693 §4.1: who acts for `sub` (a delegated token). */
  act?: ActorClaim;
}

/**
 * Ending sessions and asking about tokens (issue 4 §3): revocation (RFC 7009), introspection (RFC 7662)
 * and logout. Only tokens Bridgekeeper issued are revocable or active here.
 */
@Injectable()
export class SessionService {
  constructor(
    private readonly tokens: TokenValidationService,
    private readonly identity: IdentityService,
    private readonly grants: GrantsService,
    private readonly revocations: RevocationService,
  ) {}

  /**
   * RFC 7009: an unknown, garbage, expired or foreign token is a 200 with nothing done; a token issued
   * to another client is refused and stays valid; a refresh token ends its whole grant.
   */
  async revoke(client: ClientSnapshot, token: string): Promise<void> {
    if (looksLikeRefreshToken(token)) {
      const found = await this.grants.findRefresh(token);
      if (!found) return;
      if (found.grant.clientId !== client.clientId) throw notYours();
      if (!found.grant.revokedAt) await this.grants.revoke(found.grant.id, 'revoked');
      return;
    }
    const principal = await this.ourActiveToken(token);
    if (!principal?.own) return;
    if (principal.own.clientId !== client.clientId) throw notYours();
    await this.revocations.revoke('token', principal.own.jti, new Date(principal.own.exp * 1000));
  }

  /** RFC 7662, for the authenticated client (a resource server): our access and refresh tokens. */
  async introspect(client: ClientSnapshot, token: string): Promise<IntrospectionResponse> {
    if (looksLikeRefreshToken(token)) {
      const found = await this.grants.findRefresh(token);
      const now = new Date();
      if (
        !found ||
        found.grant.clientId !== client.clientId ||
        found.grant.revokedAt ||
        (client.tokensRevokedAt !== null &&
          found.grant.createdAt <= new Date(client.tokensRevokedAt)) ||
        found.row.usedAt ||
        found.row.expiresAt <= now ||
        found.grant.expiresAt <= now
      ) {
        return { active: false };
      }
      return {
        active: true,
        token_type: 'refresh_token',
        client_id: found.grant.clientId,
        sub: found.grant.actorId,
        scope: found.grant.scope.join(' '),
        exp: Math.floor(
          Math.min(found.row.expiresAt.getTime(), found.grant.expiresAt.getTime()) / 1000,
        ),
        sid: found.grant.id,
      };
    }
    const principal = await this.ourActiveToken(token);
    if (!principal?.own) return { active: false };
    const own = principal.own;
    // A client limited to a project learns only about its own tokens and those of its project.
    if (
      client.projectId !== null &&
      own.clientId !== client.clientId &&
      own.project !== client.projectId
    ) {
      return { active: false };
    }
    return {
      active: true,
      token_type: 'Bearer',
      scope: own.scope,
      client_id: own.clientId,
      sub: principal.actor.subject === own.clientId ? own.clientId : principal.actor.id,
      exp: own.exp,
      iat: own.iat,
      jti: own.jti,
      ...(own.sid ? { sid: own.sid } : {}),
      ...(own.aud ? { aud: own.aud } : {}),
      ...(own.act ? { act: own.act } : {}),
    };
  }

  /** `POST /oauth2/logout` with one of our tokens: that token and its grant (the session) end. */
  async logout(principal: Principal): Promise<void> {
    const own = principal.own;
    if (!own) {
      throw new AppError(
        'BAD_INPUT',
        'LOGOUT_NOT_OWN_TOKEN',
        'Only a Bridgekeeper token can be logged out; end the session at its own identity provider',
      );
    }
    if (own.sid) await this.grants.revoke(own.sid, 'logout');
    await this.revocations.revoke('token', own.jti, new Date(own.exp * 1000));
  }

  /**
   * The principal behind one of our valid, unrevoked access tokens (actor and membership still
   * active), or undefined for anything else. A failure that is not the token's fault (database or
   * revocation list unavailable) propagates as a 503.
   */
  private async ourActiveToken(token: string): Promise<Principal | undefined> {
    if (token.length > 8192 || /\s/.test(token)) return undefined;
    try {
      const validated = await this.tokens.validate(token);
      if (!validated.claims.own) return undefined;
      return await this.identity.principalFor(validated);
    } catch (err) {
      if (err instanceof AppError && (err.kind === 'INVALID_TOKEN' || err.kind === 'BAD_INPUT')) {
        return undefined;
      }
      throw err;
    }
  }
}

function notYours() {
  return OauthErrors.unauthorizedClient('The token was not issued to this client');
}
