import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the audit log reads from the request being served: its id, the client address (`request.ip`,
 * through the configured trusted proxies) and the authenticated caller once the guard or the GraphQL
 * context has set it. The Fastify request itself is stored, so a caller authenticated later in the
 * request is still seen.
 */
export interface AuditRequest {
  id: string;
  ip: string;
  principal?: {
    actor: { id: string };
    /** Bridgekeeper's own token: the client it was issued to and the project it is limited to. */
    own?: { clientId: string; project?: string };
    /** An admin client acting for a member: who really called. */
    onBehalfOf?: { actorId: string; clientId: string };
  };
}

const storage = new AsyncLocalStorage<AuditRequest>();

/** Runs `next` (the rest of the request's handling) with `request` as the audit context. */
export function runWithAuditRequest(request: AuditRequest, next: () => void): void {
  storage.run(request, next);
}

export function currentAuditRequest(): AuditRequest | undefined {
  return storage.getStore();
}
