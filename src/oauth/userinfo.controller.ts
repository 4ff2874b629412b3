import { Controller, Get, Header, HttpCode, Post } from '@nestjs/common';
import { CurrentCaller } from 'src/common/auth/caller';
import type { ProfileClaims } from 'src/common/auth/profile-claims';
import type { Principal } from 'src/identity/principal';

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
}

/** OIDC UserInfo (Core §5.3) for the authenticated actor; `sub` is the Bridgekeeper actor id. */
@Controller('oauth2/userinfo')
export class UserinfoController {
  @Get()
  @Header('Cache-Control', 'no-store')
  get(@CurrentCaller() principal: Principal): UserinfoResponse {
    return userinfo(principal);
  }

  @Post()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  post(@CurrentCaller() principal: Principal): UserinfoResponse {
    return userinfo(principal);
  }
}

function userinfo({ actor, roles, membership }: Principal): UserinfoResponse {
  const body: UserinfoResponse = {
    sub: actor.id,
    issuer: actor.issuerName,
    subject: actor.subject,
    roles,
  };
  if (actor.email !== null) body.email = actor.email;
  if (actor.emailVerified !== null) body.email_verified = actor.emailVerified;
  if (actor.name !== null) body.name = actor.name;
  if (actor.givenName !== null) body.given_name = actor.givenName;
  if (actor.familyName !== null) body.family_name = actor.familyName;
  if (actor.preferredUsername !== null) body.preferred_username = actor.preferredUsername;
  if (membership) {
    body.project = membership.projectId;
    body.membership = membership.id;
    body.profile = `${membership.resourceType}/${membership.profileId}`;
  }
  return body;
}
