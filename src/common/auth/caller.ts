import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';

/**
 * The minimum any module may know about the authenticated caller. The identity module attaches a richer
 * principal that satisfies this shape; domain modules depend only on this.
 */
export interface AuthenticatedCaller {
  actor: { id: string };
  roles: string[];
  /**
   * Set for an ADMIN client limited to one project: it administers that project only (its ADMIN role is
   * not in `roles`, so no server-wide operation is open to it).
   */
  adminOfProject?: string;
}

export interface RequestWithCaller<P extends AuthenticatedCaller = AuthenticatedCaller> {
  principal?: P;
  headers?: Record<string, unknown>;
}

/** The request object behind a REST or GraphQL execution context. */
export function requestOf<P extends AuthenticatedCaller>(
  ctx: ExecutionContext,
): RequestWithCaller<P> {
  if (ctx.getType<string>() === 'graphql') {
    return GqlExecutionContext.create(ctx).getContext<{ req: RequestWithCaller<P> }>().req;
  }
  return ctx.switchToHttp().getRequest<RequestWithCaller<P>>();
}

/** The authenticated caller of this request (set by the global auth guard or the GraphQL context). */
export const CurrentCaller = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => requestOf(ctx).principal,
);
