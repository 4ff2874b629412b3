import type { ActorEntity, ActorStatus } from 'src/actors/actor.entity';

/** An actor as cached and as carried by an authenticated request: plain JSON, safe to cache. */
export interface ActorSnapshot {
  id: string;
  issuerName: string;
  subject: string;
  email: string | null;
  emailVerified: boolean | null;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  preferredUsername: string | null;
  roles: string[];
  status: ActorStatus;
  createdAt: string;
  lastSeenAt: string | null;
}

export function toSnapshot(e: ActorEntity): ActorSnapshot {
  return {
    id: e.id,
    issuerName: e.issuerName,
    subject: e.subject,
    email: e.email,
    emailVerified: e.emailVerified,
    name: e.name,
    givenName: e.givenName,
    familyName: e.familyName,
    preferredUsername: e.preferredUsername,
    roles: e.roles ?? [],
    status: e.status,
    createdAt: new Date(e.createdAt).toISOString(),
    lastSeenAt: e.lastSeenAt ? new Date(e.lastSeenAt).toISOString() : null,
  };
}
