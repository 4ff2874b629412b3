import type {
  ClientEntity,
  ClientGrantType,
  ClientRegistration,
  ClientStatus,
  SubjectResolution,
  TokenEndpointAuthMethod,
} from 'src/clients/client.entity';
import type { ClientJwks } from 'src/clients/client-jwks';

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
  /** Who registered it: `dynamic` clients get a consent page before any code (issue 11 §1). */
  registration: ClientRegistration;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** The public keys of a private_key_jwt client, else null. */
  jwks: ClientJwks | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  createdAt: string;
  secretRotatedAt: string;
  /** ISO time; grants created up to then can no longer be refreshed. */
  tokensRevokedAt: string | null;
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
    registration: e.registration ?? 'admin',
    tokenEndpointAuthMethod: e.tokenEndpointAuthMethod ?? 'client_secret_basic',
    jwks: e.jwks ?? null,
    redirectUris: e.redirectUris ?? [],
    postLogoutRedirectUris: e.postLogoutRedirectUris ?? [],
    createdAt: new Date(e.createdAt).toISOString(),
    secretRotatedAt: new Date(e.secretRotatedAt).toISOString(),
    tokensRevokedAt: e.tokensRevokedAt ? new Date(e.tokensRevokedAt).toISOString() : null,
  };
}
