import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC_KEY } from 'src/common/decorators/public.decorator';
import { ROLES_KEY } from 'src/common/decorators/roles.decorator';
import { requestOf } from 'src/common/auth/caller';
import { IdentityErrors } from 'src/identity/identity.errors';
import { IdentityService } from 'src/identity/identity.service';
import type { Principal } from 'src/identity/principal';

/**
 * Global, deny-by-default (SECURITY.md rule 16): every route and resolver needs a valid bearer token
 * unless marked `@Public()`, and the roles named by `@RequireRoles()`. On GraphQL the principal was
 * already established for the whole HTTP request by the GraphQL context (which answers 401 itself).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  /**
   * `@Public()` and `@RequireRoles()` of each handler, read once: decorators are static after start-up,
   * so the two metadata lookups per request are done on the first request of each route only. Keyed
   * by class, then handler (a handler inherited by two controllers may have different class rules).
   */
  private readonly rules = new WeakMap<object, WeakMap<object, RouteRules>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly identity: IdentityService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const rules = this.rulesOf(ctx);
    if (rules.isPublic) return true;
    const req = requestOf<Principal>(ctx);
    if (!req.principal) {
      req.principal = await this.identity.authenticateRequest(req);
    }
    const required = rules.roles;
    if (required?.length) {
      const roles = req.principal.roles;
      if (!required.every((r) => roles.includes(r))) throw IdentityErrors.roleRequired();
    }
    return true;
  }

  private rulesOf(ctx: ExecutionContext): RouteRules {
    const cls = ctx.getClass();
    const handler = ctx.getHandler();
    let byHandler = this.rules.get(cls);
    if (!byHandler) this.rules.set(cls, (byHandler = new WeakMap()));
    let rules = byHandler.get(handler);
    if (!rules) {
      const targets = [handler, cls];
      rules = {
        isPublic: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets) === true,
        roles: this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, targets),
      };
      byHandler.set(handler, rules);
    }
    return rules;
  }
}

interface RouteRules {
  isPublic: boolean;
  roles?: string[];
}
