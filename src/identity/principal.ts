import type { OwnTokenClaims } from 'src/token-validation/token-claims';
import type { ActorSnapshot } from 'src/actors/actor-snapshot';
import type { AuthenticatedCaller } from 'src/common/auth/caller';
import type { MembershipSnapshot } from 'src/memberships/membership-snapshot';

/** Who is calling: the authenticated actor and its effective roles. Attached to every request. */
export interface Principal extends AuthenticatedCaller {
  actor: ActorSnapshot;
  roles: string[];
  /** Trusted issuer name the token came from. */
  issuer: string;
  /** The project membership this caller resolved to, when any (issue 3). */
  membership?: MembershipSnapshot;
  /** SHA-256 of the bearer token (hex); log only a short prefix of it. */
  tokenSha256: string;
  /** Set when the bearer token is one of Bridgekeeper's own (issue 4). */
  own?: OwnTokenClaims & { exp: number; iat: number };
  /**
   * Set when an admin client acts for a member (`X-Bridgekeeper-On-Behalf-Of`): `actor`, `membership`
   * and `roles` are the member's; this records who really called (RFC 8693 §4.1 `act`).
   */
  onBehalfOf?: { actorId: string; clientId: string };
  /** Set for external tokens: when the token expires and what its issuer allows (userinfo credentials). */
  external?: { exp: number; userinfoCredentials: boolean };
}
