import type {
  ClientEntity,
  ClientGrantType,
  ClientStatus,
  SubjectResolution,
} from 'src/clients/client.entity';

/** A client as cached and as the token endpoint sees it (the secret only as its hash). */
export interface ClientSnapshot {
  id: string;
  clientId: string;
  name: string;
  secretHash: string;
  actorId: string;
  projectId: string | null;
  scopes: string[];
  grantTypes: ClientGrantType[];
  exchangeIssuers: string[];
  subjectResolution: SubjectResolution;
  status: ClientStatus;
  createdAt: string;
  secretRotatedAt: string;
}

export function toClientSnapshot(e: ClientEntity): ClientSnapshot {
  return {
    id: e.id,
    clientId: e.clientId,
    name: e.name,
    secretHash: e.secretHash,
    actorId: e.actorId,
    projectId: e.projectId,
    scopes: e.scopes ?? [],
    grantTypes: (e.grantTypes ?? []) as ClientGrantType[],
    exchangeIssuers: e.exchangeIssuers ?? [],
    subjectResolution: e.subjectResolution,
    status: e.status,
    createdAt: new Date(e.createdAt).toISOString(),
    secretRotatedAt: new Date(e.secretRotatedAt).toISOString(),
  };
}
