import type { ProfileResourceType } from 'src/memberships/fhir-user';

/** What a request knows about the caller's membership (cached; plain data). */
export interface MembershipSnapshot {
  id: string;
  projectId: string;
  profileId: string;
  resourceType: ProfileResourceType;
  actorId: string | null;
  admin: boolean;
  active: boolean;
}
