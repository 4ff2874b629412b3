import type { ActorSnapshot } from 'src/actors/actor-snapshot';
import type { AuthenticatedCaller } from 'src/common/auth/caller';

/** Who is calling: the authenticated actor and its effective roles. Attached to every request. */
export interface Principal extends AuthenticatedCaller {
  actor: ActorSnapshot;
  roles: string[];
  /** Trusted issuer name the token came from. */
  issuer: string;
  /** SHA-256 of the bearer token (hex); log only a short prefix of it. */
  tokenSha256: string;
}
