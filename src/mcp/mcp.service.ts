import { Inject, Injectable } from '@nestjs/common';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  type CallToolResult,
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ActorsService } from 'src/actors/actors.service';
import { AuditService } from 'src/audit/audit.service';
import { ClientsService } from 'src/clients/clients.service';
import { toKnownError } from 'src/common/errors/app-error';
import { httpErrorResponse } from 'src/common/filters/http-error-response';
import { LOGGER } from 'src/common/logging/logging.constants';
import { InvitesService } from 'src/invites/invites.service';
import { IssuersService } from 'src/issuers/issuers.service';
import { type McpCaller, hasRight } from 'src/mcp/mcp-access';
import { InsufficientScopeError, McpErrors } from 'src/mcp/mcp.errors';
import { MCP_TOOLS, type McpTool, type McpToolDeps } from 'src/mcp/mcp-tools';
import { MembershipsService } from 'src/memberships/memberships.service';
import { ActorSessionsService } from 'src/oauth/actor-sessions.service';
import { ProjectsService } from 'src/projects/projects.service';

/** What an agent is told when it connects (MCP `initialize` → `instructions`). */
export const MCP_INSTRUCTIONS =
  'Bridgekeeper is the identity service of this deployment: it knows the actors (people and client ' +
  'applications), the projects they are members of, the OAuth clients and the trusted identity ' +
  'providers. The tools listed are exactly those your token and your roles allow; each call is ' +
  'authorized again and audited under your identity. Prefer read-only tools; confirm with the person ' +
  'before disabling actors, revoking sessions or deactivating memberships.';

type Outcome = 'ok' | 'denied' | 'invalid' | 'refused' | 'error';

/**
 * The MCP server behind `/mcp`, stateless (MCP Streamable HTTP without sessions): every HTTP request
 * gets its own server and transport, built for the caller established by that request, so any node can
 * answer any request and nothing about a caller outlives the request.
 */
@Injectable()
export class McpService {
  private readonly deps: McpToolDeps;

  constructor(
    actors: ActorsService,
    clients: ClientsService,
    invites: InvitesService,
    issuers: IssuersService,
    memberships: MembershipsService,
    projects: ProjectsService,
    sessions: ActorSessionsService,
    private readonly auditLog: AuditService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.deps = { actors, clients, invites, issuers, memberships, projects, sessions };
  }

  /** The tools this caller may use: its token's scopes and its roles and memberships, both. */
  toolsFor(caller: McpCaller): McpTool[] {
    return MCP_TOOLS.filter((t) => caller.scopes.has(t.scope) && hasRight(caller, t.right));
  }

  /**
   * MCP authorization §Scope challenge: a call to a tool the caller's roles allow but its token's scopes
   * do not is answered `403 insufficient_scope` naming the scope, so the client can ask for it.
   */
  assertScopes(caller: McpCaller, body: unknown): void {
    for (const message of Array.isArray(body) ? body : [body]) {
      const m = message as { method?: unknown; params?: { name?: unknown } } | null;
      if (m?.method !== 'tools/call') continue;
      const tool = MCP_TOOLS.find((t) => t.name === m.params?.name);
      if (tool && hasRight(caller, tool.right) && !caller.scopes.has(tool.scope)) {
        this.audit(caller, tool.name, 'denied', 'insufficient_scope');
        throw new InsufficientScopeError(tool.scope);
      }
    }
  }

  /** Answers one MCP HTTP request (a JSON-RPC POST) for an authenticated caller. */
  async handle(caller: McpCaller, request: Request, body: unknown): Promise<Response> {
    const server = new Server(
      { name: 'bridgekeeper', version: '1' },
      { capabilities: { tools: { listChanged: false } }, instructions: MCP_INSTRUCTIONS },
    );
    server.setRequestHandler(ListToolsRequestSchema, () => ({
      tools: this.toolsFor(caller).map(describe),
    }));
    server.setRequestHandler(CallToolRequestSchema, (req) =>
      this.call(caller, req.params.name, req.params.arguments ?? {}),
    );
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    try {
      await server.connect(transport);
      return await transport.handleRequest(request, { parsedBody: body });
    } finally {
      await server.close();
    }
  }

  /** One tool call, authorized again now (the tool list the client saw may be stale). */
  private async call(
    caller: McpCaller,
    name: string,
    args: Record<string, unknown>,
  ): Promise<CallToolResult> {
    const tool = MCP_TOOLS.find((t) => t.name === name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name.slice(0, 64)}`);
    if (!this.toolsFor(caller).includes(tool)) {
      this.audit(caller, tool.name, 'denied', 'right');
      return failure(McpErrors.toolForbidden().message);
    }
    const parsed = tool.input.safeParse(args);
    if (!parsed.success) {
      this.audit(caller, tool.name, 'invalid');
      return failure(`Invalid arguments: ${z.prettifyError(parsed.error)}`);
    }
    try {
      const result = await tool.run(caller, parsed.data, this.deps);
      this.audit(caller, tool.name, 'ok');
      return {
        content: [{ type: 'text', text: JSON.stringify(result, null, 2) }],
        structuredContent: result as Record<string, unknown>,
      };
    } catch (err) {
      const known = toKnownError(err);
      if (known) {
        this.audit(caller, tool.name, 'refused', known.code);
        return failure(known.message);
      }
      const { errorId } = httpErrorResponse(err);
      this.logger.error({ errorId, err, tool: tool.name }, 'mcp tool failed');
      this.audit(caller, tool.name, 'error', errorId);
      return failure(`Internal error (error id ${errorId})`);
    }
  }

  /**
   * Each call, attributable: actor, client, the member it acts for, tool and outcome (never a token or an
   * argument value, which can be personal data), in the audit log (`mcp.tool_call`, batched like other
   * security events; the change a tool makes is audited by its domain service too) and the log.
   */
  private audit(caller: McpCaller, tool: string, outcome: Outcome, reason?: string): void {
    const p = caller.principal;
    this.auditLog.security(
      {
        action: 'mcp.tool_call',
        outcome: outcome === 'ok' ? 'SUCCESS' : 'FAILURE',
        actorId: p.actor.id,
        clientId: caller.clientId,
        targetType: 'mcp_tool',
        targetId: tool,
        details: { result: outcome, ...(reason ? { reason } : {}) },
      },
      caller.from,
    );
    this.logger.info(
      {
        audit: 'mcp.tool_call',
        actorId: p.actor.id,
        clientId: caller.clientId,
        ...(p.own?.act ? { act: p.own.act } : {}),
        ...(p.onBehalfOf ? { onBehalfOf: p.onBehalfOf } : {}),
        tool,
        outcome,
        ...(reason ? { reason } : {}),
        token: p.tokenSha256.slice(0, 12),
      },
      'mcp tool call',
    );
  }
}

function describe(tool: McpTool): Tool {
  const { $schema: _schema, ...inputSchema } = z.toJSONSchema(tool.input) as Record<
    string,
    unknown
  >;
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: inputSchema as Tool['inputSchema'],
    annotations: { title: tool.title, ...tool.annotations, openWorldHint: false },
  };
}

function failure(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}
