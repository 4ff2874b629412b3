import { Inject, Injectable } from '@nestjs/common';
import type { AuditRequest } from 'src/audit/audit-context';
import { ADMIN_ROLE } from 'src/common/decorators/roles.decorator';
import type { AppError } from 'src/common/errors/app-error';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { IdentityService } from 'src/identity/identity.service';
import type { Principal } from 'src/identity/principal';
import { McpErrors } from 'src/mcp/mcp.errors';
import { MembershipsService } from 'src/memberships/memberships.service';
import {
  type BearerChallenge,
  mcpResource,
  wwwAuthenticate,
} from 'src/token-validation/oauth-resources';

/**
 * What a tool needs besides its scope. `caller`: anyone with an MCP token; `projectAdmin`: an admin of
 * at least one project (server admins included), whose project the tool checks again at call time;
 * `admin`: the server-wide ADMIN role.
 */
export type McpRight = 'caller' | 'projectAdmin' | 'admin';

/** The authenticated caller of one MCP request: who, through which client, and what it may do. */
export interface McpCaller {
  principal: Principal;
  clientId: string;
  scopes: ReadonlySet<string>;
  /** Projects the caller administers; undefined: all of them (server ADMIN). */
  manageableProjects: string[] | undefined;
  /** The request (id, client address, caller), for the audit rows of what the tools change. */
  from: AuditRequest;
}

/** The HTTP request of an MCP call: its headers, and what the audit log reads of it. */
export type McpRequest = AuditRequest & {
  headers: Record<string, unknown>;
  principal?: AuditRequest['principal'];
};

/**
 * Who may use `/mcp` (SECURITY.md rule 25): only Bridgekeeper's own access tokens issued for the MCP
 * resource; an external provider's token is never accepted (no passthrough), and neither is one issued
 * for the API. The caller is established again on every request (the endpoint is stateless), so a
 * disabled actor, a revoked grant or a deactivated membership stops at its next request.
 */
@Injectable()
export class McpAccess {
  private readonly origin: string;
  readonly resource: string;

  constructor(
    private readonly identity: IdentityService,
    private readonly memberships: MembershipsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.origin = new URL(config.publicUrl).origin;
    this.resource = mcpResource(config);
  }

  /**
   * MCP Streamable HTTP transport §Security: an `Origin` header (a browser's request) must be our own
   * public origin, so that no web page can drive a local agent's session (DNS rebinding). Requests
   * without one (CLIs, agents, IDEs) are not browsers and pass.
   */
  assertOrigin(origin: string | string[] | undefined): void {
    if (origin === undefined) return;
    if (typeof origin !== 'string' || origin !== this.origin) throw McpErrors.originRefused();
  }

  async authenticate(request: McpRequest): Promise<McpCaller> {
    const principal = await this.identity.authenticateRequest(request, 'mcp');
    // Only our own tokens are MCP-audience tokens; this keeps it so whatever changes upstream.
    const own = principal.own;
    if (!own) throw McpErrors.wrongResource('external_token');
    const scopes = new Set(own.scope.split(' ').filter(Boolean));
    // The audit log reads the caller from the request, as for the guarded routes.
    request.principal = principal;
    return {
      principal,
      from: request,
      clientId: own.clientId,
      scopes,
      manageableProjects: await this.memberships.manageableProjectIds(principal),
    };
  }

  /**
   * RFC 9728 §5.1 / RFC 6750 §3: the challenge a 401 of `/mcp` carries (where its metadata is, which
   * scopes to ask for), or a 403 for a missing scope (`challenge` from `insufficientScope`).
   */
  challenge(err: AppError, challenge?: BearerChallenge): string {
    return wwwAuthenticate(
      this.config,
      'mcp',
      challenge ?? (err.kind === 'INVALID_TOKEN' ? { error: 'invalid_token' } : {}),
    );
  }
}

/** Whether the caller's roles and memberships allow a right (scopes are checked separately). */
export function hasRight(caller: McpCaller, right: McpRight): boolean {
  switch (right) {
    case 'caller':
      return true;
    case 'projectAdmin':
      return caller.manageableProjects === undefined || caller.manageableProjects.length > 0;
    case 'admin':
      return caller.principal.roles.includes(ADMIN_ROLE);
  }
}
