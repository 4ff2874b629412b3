import { Controller, Get, Header, HttpCode, Post } from '@nestjs/common';
import { CurrentCaller } from 'src/common/auth/caller';
import type { ProfileClaims } from 'src/common/auth/profile-claims';
import { AcceptsBody } from 'src/common/validation/accepts-body';
import type { Principal } from 'src/identity/principal';
import { AccessTokensService } from 'src/oauth/access-tokens.service';
import type { ActorClaim } from 'src/token-validation/token-claims';

/** The built-in client name of tokens Bridgekeeper mints at userinfo (it is no registered client). */
export const USERINFO_CLIENT_ID = 'bridgekeeper';
const USERINFO_CREDENTIALS_SCOPE = ['openid', 'profile', 'email'];

export interface UserinfoResponse extends ProfileClaims {
  sub: string;
  issuer: string;
  subject: string;
  roles: string[];
  /** When the caller resolved to a project membership (issue 3): its project and membership ids. */
  project?: string;
  membership?: string;
  /** The member's FHIR profile reference, e.g. `Practitioner/<id>`. */
  profile?: string;
  /**
   * RFC 8693 §4.1: who acts for this person: the agent of a delegated token (nested when delegated
   * again), or the admin client that acts on behalf of this member.
   */
  act?: ActorClaim;
  /**
   * Medplum-style: for an external token of an issuer with `userinfo.credentials`, a Bridgekeeper
   * access token for the same person that never outlives the external token.
   */
  credentials?: { access_token: string; token_type: 'Bearer'; expires_in: number; scope: string };
}

/** OIDC UserInfo (Core §5.3) for the authenticated actor; `sub` is the Bridgekeeper actor id. */
@Controller('oauth2/userinfo')
export class UserinfoController {
  constructor(private readonly accessTokens: AccessTokensService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  get(@CurrentCaller() principal: Principal): Promise<UserinfoResponse> {
    return this.respond(principal);
  }

  @Post()
  // The token comes only from the Authorization header: a body, if any, is ignored.
  @AcceptsBody('form', 'json', 'empty')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  post(@CurrentCaller() principal: Principal): Promise<UserinfoResponse> {
    return this.respond(principal);
  }

  private async respond(principal: Principal): Promise<UserinfoResponse> {
    const body = userinfo(principal);
    // Never for our own tokens (no token minting from a token we issued), only for switched-on issuers.
    if (!principal.own && principal.external?.userinfoCredentials) {
      const at = await this.accessTokens.issue({
        sub: principal.actor.id,
        clientId: USERINFO_CLIENT_ID,
        scope: USERINFO_CREDENTIALS_SCOPE,
        membership: principal.membership?.id,
        project: principal.membership?.projectId,
        notAfter: principal.external.exp,
      });
      body.credentials = {
        access_token: at.token,
        token_type: 'Bearer',
        expires_in: at.expiresIn,
        scope: at.scope.join(' '),
      };
    }
    return body;
  }
}

/**
 * Which standard claims a token may read (OIDC Core §5.4): one of our tokens issued for sign-in (scope
 * `openid`) gets the `profile` claims with `profile` and the `email` claims with `email`; other tokens
 * get every claim the actor has, as before.
 */
function claimScopes({ own }: Principal): { profile: boolean; email: boolean } {
  const scope = own?.scope.split(' ');
  if (!scope?.includes('openid')) return { profile: true, email: true };
  return { profile: scope.includes('profile'), email: scope.includes('email') };
}

function userinfo(principal: Principal): UserinfoResponse {
  const { actor, roles, membership, onBehalfOf } = principal;
  const body: UserinfoResponse = {
    sub: actor.id,
    issuer: actor.issuerName,
    subject: actor.subject,
    roles,
  };
  const allowed = claimScopes(principal);
  if (allowed.email) {
    if (actor.email !== null) body.email = actor.email;
    if (actor.emailVerified !== null) body.email_verified = actor.emailVerified;
  }
  if (allowed.profile) {
    if (actor.name !== null) body.name = actor.name;
    if (actor.givenName !== null) body.given_name = actor.givenName;
    if (actor.familyName !== null) body.family_name = actor.familyName;
    if (actor.preferredUsername !== null) body.preferred_username = actor.preferredUsername;
  }
  if (membership) {
    body.project = membership.projectId;
    body.membership = membership.id;
    body.profile = `${membership.resourceType}/${membership.profileId}`;
  }
  if (onBehalfOf) body.act = { sub: onBehalfOf.actorId, client_id: onBehalfOf.clientId };
  else if (principal.own?.act) body.act = principal.own.act;
  return body;
}
