import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { requestOf } from 'src/common/auth/caller';

/**
 * What the audit log reads from the request being served: its id, the client address (`request.ip`,
 * through the configured trusted proxies) and the authenticated caller. A Fastify request is one, so
 * controllers pass their request and resolvers theirs (`@AuditFrom()`), down to the service that
 * records the event. Passed explicitly rather than kept in an AsyncLocalStorage: on Node 20 that would
 * put a promise hook on every promise of every request, the warm path included.
 */
export interface AuditRequest {
  id: string;
  ip: string;
  principal?: {
    actor: { id: string };
    /** Bridgekeeper's own token: the client it was issued to and the project it is limited to. */
    own?: { clientId: string; project?: string; act?: ActChainLink };
    /** An admin client acting for a member: who really called. */
    onBehalfOf?: { actorId: string; clientId: string };
  };
}

/** RFC 8693 `act`, nested: the most recent acting party outermost. */
export interface ActChainLink {
  sub: string;
  client_id?: string;
  act?: ActChainLink;
}

/** The request of a REST handler or GraphQL resolver, as the audit context of what it changes. */
export const AuditFrom = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => requestOf(ctx) as unknown as AuditRequest,
);
