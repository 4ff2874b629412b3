import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { z } from 'zod';
import type { ActorSnapshot } from 'src/actors/actor-snapshot';
import { ActorsErrors } from 'src/actors/actors.errors';
import type { ActorsService } from 'src/actors/actors.service';
import type { ClientSnapshot } from 'src/clients/client-snapshot';
import type { ClientsService } from 'src/clients/clients.service';
import { AppError } from 'src/common/errors/app-error';
import type { TrustedIssuerConfig } from 'src/config/config.types';
import { InviteInput } from 'src/invites/dto/invite.input';
import type { InvitesService } from 'src/invites/invites.service';
import type { IssuersService } from 'src/issuers/issuers.service';
import type { McpCaller, McpRight } from 'src/mcp/mcp-access';
import { PROFILE_RESOURCE_TYPES } from 'src/memberships/fhir-user';
import type { MembershipEntity } from 'src/memberships/membership.entity';
import type { MembershipsService } from 'src/memberships/memberships.service';
import type { ActorSessionsService } from 'src/oauth/actor-sessions.service';
import type { ProjectsService } from 'src/projects/projects.service';
import { MCP_READ_SCOPE, MCP_WRITE_SCOPE } from 'src/token-validation/oauth-resources';

/** The domain services the tools call (never GraphQL): each keeps its own authorization checks. */
export interface McpToolDeps {
  actors: ActorsService;
  clients: ClientsService;
  invites: InvitesService;
  issuers: IssuersService;
  memberships: MembershipsService;
  projects: ProjectsService;
  sessions: ActorSessionsService;
}

export interface McpTool {
  name: string;
  title: string;
  description: string;
  scope: string;
  right: McpRight;
  annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean };
  input: z.ZodObject;
  run(caller: McpCaller, args: Record<string, unknown>, deps: McpToolDeps): Promise<object>;
}

const uuid = (what: string) => z.uuid().describe(what);
const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true };
const WRITE = { readOnlyHint: false, destructiveHint: false, idempotentHint: true };
const DESTRUCTIVE = { readOnlyHint: false, destructiveHint: true, idempotentHint: true };

function define<S extends z.ZodObject>(tool: {
  name: string;
  title: string;
  description: string;
  scope: string;
  right: McpRight;
  annotations: McpTool['annotations'];
  input: S;
  run(caller: McpCaller, args: z.infer<S>, deps: McpToolDeps): Promise<object>;
}): McpTool {
  return tool as unknown as McpTool;
}

export function actorView(a: ActorSnapshot, roles: string[]) {
  return {
    id: a.id,
    issuer: a.issuerName,
    subject: a.subject,
    name: a.name,
    email: a.email,
    preferredUsername: a.preferredUsername,
    status: a.status,
    roles,
    createdAt: a.createdAt,
    lastSeenAt: a.lastSeenAt,
  };
}

function memberView(m: MembershipEntity) {
  return {
    id: m.id,
    projectId: m.projectId,
    actorId: m.actorId,
    active: m.active,
    admin: m.admin,
    email: m.email,
    issuer: m.issuerName,
    externalId: m.externalId,
    resourceType: m.profile?.resourceType ?? null,
    firstName: m.profile?.givenName ?? null,
    lastName: m.profile?.familyName ?? null,
    createdAt: new Date(m.createdAt).toISOString(),
  };
}

/** A client without anything secret (no secret hash, no keys). */
function clientView(c: ClientSnapshot) {
  return {
    id: c.id,
    clientId: c.clientId,
    name: c.name,
    status: c.status,
    projectId: c.projectId,
    grantTypes: c.grantTypes,
    scopes: c.scopes,
    tokenEndpointAuthMethod: c.tokenEndpointAuthMethod,
    createdAt: c.createdAt,
  };
}

function issuerView(i: TrustedIssuerConfig) {
  return {
    name: i.name,
    issuer: i.issuer,
    validation: i.jwksUrl ? 'jwks' : 'userinfo',
    audiences: i.audiences,
    algorithms: i.algorithms,
    provisioning: i.provisioning,
    emailMatching: i.emailMatching,
    source: i.source,
  };
}

async function actorOr404(deps: McpToolDeps, id: string): Promise<ActorSnapshot> {
  const actor = await deps.actors.findById(id);
  if (!actor) throw ActorsErrors.notFound();
  return actor;
}

async function setStatus(
  deps: McpToolDeps,
  caller: McpCaller,
  id: string,
  status: 'ACTIVE' | 'DISABLED',
) {
  const actor = await deps.actors.setStatus(id, status, caller.from);
  return { actor: actorView(actor, deps.actors.effectiveRoles(actor)) };
}

/** The invite as GraphQL and REST validate it (one rule set: the InviteInput class). */
async function inviteInput(args: Record<string, unknown>): Promise<InviteInput> {
  const input = plainToInstance(InviteInput, args);
  const problems = await validate(input, { whitelist: true, forbidNonWhitelisted: true });
  if (problems.length > 0) {
    const messages = problems.flatMap((p) => Object.values(p.constraints ?? {}));
    throw new AppError('BAD_INPUT', 'MCP_INVALID_ARGUMENTS', messages.join('; '));
  }
  return input;
}

/**
 * Every tool. Nothing here reveals a secret (no client creation or secret rotation, no set-password
 * links) or raises privileges (no roles, no project-admin invites, no issuers, no signing keys).
 */
export const MCP_TOOLS: readonly McpTool[] = [
  define({
    name: 'whoami',
    title: 'Who am I',
    description:
      'The identity this connection acts as: actor, client, scopes, roles and project membership.',
    scope: MCP_READ_SCOPE,
    right: 'caller',
    annotations: READ,
    input: z.object({}),
    run: (caller) => {
      const p = caller.principal;
      return Promise.resolve({
        actor: actorView(p.actor, p.roles),
        clientId: caller.clientId,
        scopes: [...caller.scopes],
        membership: p.membership
          ? { id: p.membership.id, projectId: p.membership.projectId }
          : null,
        administersProjects: caller.manageableProjects ?? 'all',
        // RFC 8693 delegation: the agent acting for the person (nested when delegated again).
        ...(p.own?.act ? { act: p.own.act } : {}),
        ...(p.onBehalfOf
          ? { onBehalfOf: { sub: p.onBehalfOf.actorId, client_id: p.onBehalfOf.clientId } }
          : {}),
      });
    },
  }),
  define({
    name: 'list_projects',
    title: 'List projects',
    description: 'Projects the caller administers (every project for a server admin).',
    scope: MCP_READ_SCOPE,
    right: 'projectAdmin',
    annotations: READ,
    input: z.object({}),
    run: async (caller, _args, deps) => {
      const ids = caller.manageableProjects;
      const rows = ids && ids.length === 0 ? [] : await deps.projects.list(ids);
      return {
        projects: rows.map((p) => ({
          id: p.id,
          name: p.name,
          createdAt: new Date(p.createdAt).toISOString(),
        })),
      };
    },
  }),
  define({
    name: 'list_members',
    title: 'List project members',
    description: 'The memberships of one project the caller administers, oldest first.',
    scope: MCP_READ_SCOPE,
    right: 'projectAdmin',
    annotations: READ,
    input: z.object({ projectId: uuid('The project id') }),
    run: async (caller, { projectId }, deps) => {
      await deps.memberships.assertCanManage(caller.principal, projectId);
      const rows = await deps.memberships.byProjectIds([projectId]);
      return { members: rows.map(memberView) };
    },
  }),
  define({
    name: 'invite_member',
    title: 'Invite a member',
    description:
      'Invite a person into a project the caller administers, by email and/or their subject at a trusted issuer. Invites ordinary members only (never project admins).',
    scope: MCP_WRITE_SCOPE,
    right: 'projectAdmin',
    annotations: { ...WRITE, idempotentHint: false },
    input: z.object({
      projectId: uuid('The project id'),
      resourceType: z.enum(PROFILE_RESOURCE_TYPES),
      firstName: z.string().min(1).max(200),
      lastName: z.string().min(1).max(200),
      email: z.email().max(320).optional(),
      externalId: z
        .string()
        .min(1)
        .max(255)
        .optional()
        .describe("The member's subject at `issuer`"),
      issuer: z.string().max(64).optional().describe('Trusted issuer name the member is bound to'),
      sendEmail: z.boolean().optional().describe('Send the welcome email (needs email)'),
    }),
    run: async (caller, { projectId, ...rest }, deps) => {
      const input = await inviteInput(rest);
      // Never a set-password link in a tool's answer: it is a credential (emailed, or made by a person).
      const result = await deps.invites.invite(caller.principal, projectId, input, caller.from, {
        linkInAnswer: false,
      });
      return {
        membership: memberView(result.membership),
        created: result.created,
        emailSent: result.emailSent,
      };
    },
  }),
  define({
    name: 'set_membership_active',
    title: 'Activate or deactivate a membership',
    description:
      'Deactivate (active=false) or reactivate a membership in a project the caller administers. A deactivated member is refused from their next request.',
    scope: MCP_WRITE_SCOPE,
    right: 'projectAdmin',
    annotations: DESTRUCTIVE,
    input: z.object({ membershipId: uuid('The membership id'), active: z.boolean() }),
    run: async (caller, { membershipId, active }, deps) => ({
      membership: memberView(
        await deps.memberships.setActive(caller.principal, membershipId, active, caller.from),
      ),
    }),
  }),
  define({
    name: 'search_actors',
    title: 'Search actors',
    description:
      'Actors (people and client principals) whose email, name, username or subject contains `query`, oldest first (server admins).',
    scope: MCP_READ_SCOPE,
    right: 'admin',
    annotations: READ,
    input: z.object({
      query: z.string().min(1).max(200).optional(),
      status: z.enum(['ACTIVE', 'DISABLED']).optional(),
      issuer: z.string().min(1).max(64).optional(),
      first: z.number().int().min(1).max(100).optional(),
      after: z.string().max(200).optional().describe('endCursor of the previous page'),
    }),
    run: async (_caller, args, deps) => {
      const page = await deps.actors.list({
        first: args.first ?? 20,
        after: args.after,
        search: args.query,
        status: args.status,
        issuer: args.issuer,
      });
      return {
        actors: page.items.map((i) => actorView(i.actor, deps.actors.effectiveRoles(i.actor))),
        totalCount: page.totalCount,
        endCursor: page.hasNextPage ? (page.items.at(-1)?.cursor ?? null) : null,
      };
    },
  }),
  define({
    name: 'get_actor',
    title: 'Get an actor',
    description: 'One actor by id, with its project memberships (server admins).',
    scope: MCP_READ_SCOPE,
    right: 'admin',
    annotations: READ,
    input: z.object({ actorId: uuid('The actor id') }),
    run: async (_caller, { actorId }, deps) => {
      const actor = await actorOr404(deps, actorId);
      const memberships = await deps.memberships.byActorIds([actor.id]);
      return {
        actor: actorView(actor, deps.actors.effectiveRoles(actor)),
        memberships: memberships.map(memberView),
      };
    },
  }),
  define({
    name: 'disable_actor',
    title: 'Disable an actor',
    description:
      'Refuse every token of this actor from its next request on and end its sessions (server admins; never yourself).',
    scope: MCP_WRITE_SCOPE,
    right: 'admin',
    annotations: DESTRUCTIVE,
    input: z.object({ actorId: uuid('The actor id') }),
    run: async (caller, { actorId }, deps) => {
      if (caller.principal.actor.id.toLowerCase() === actorId.toLowerCase()) {
        throw ActorsErrors.cannotDisableSelf();
      }
      return setStatus(deps, caller, actorId, 'DISABLED');
    },
  }),
  define({
    name: 'enable_actor',
    title: 'Enable an actor',
    description:
      'Let a disabled actor authenticate again (server admins). Old sessions stay ended.',
    scope: MCP_WRITE_SCOPE,
    right: 'admin',
    annotations: WRITE,
    input: z.object({ actorId: uuid('The actor id') }),
    run: (caller, { actorId }, deps) => setStatus(deps, caller, actorId, 'ACTIVE'),
  }),
  define({
    name: 'revoke_sessions',
    title: 'Revoke sessions',
    description:
      'End every session of an actor: its grants and refresh tokens now, its access tokens and browser sessions within a second (server admins).',
    scope: MCP_WRITE_SCOPE,
    right: 'admin',
    annotations: DESTRUCTIVE,
    input: z.object({ actorId: uuid('The actor id') }),
    run: async (caller, { actorId }, deps) => {
      const actor = await actorOr404(deps, actorId);
      return { actorId: actor.id, grantsRevoked: await deps.sessions.endAll(actor, caller.from) };
    },
  }),
  define({
    name: 'list_clients',
    title: 'List OAuth clients',
    description: 'Registered OAuth clients, without any secret (server admins).',
    scope: MCP_READ_SCOPE,
    right: 'admin',
    annotations: READ,
    input: z.object({
      projectId: uuid('Only the clients of this project').optional(),
      first: z.number().int().min(1).max(100).optional(),
      after: z.string().max(200).optional().describe('endCursor of the previous page'),
    }),
    run: async (_caller, args, deps) => {
      const page = await deps.clients.list({
        first: args.first ?? 20,
        after: args.after,
        projectId: args.projectId,
      });
      return {
        clients: page.items.map((i) => clientView(i.client)),
        totalCount: page.totalCount,
        endCursor: page.hasNextPage ? (page.items.at(-1)?.cursor ?? null) : null,
      };
    },
  }),
  define({
    name: 'list_trusted_issuers',
    title: 'List trusted issuers',
    description: 'The identity providers whose tokens Bridgekeeper accepts (server admins).',
    scope: MCP_READ_SCOPE,
    right: 'admin',
    annotations: READ,
    input: z.object({}),
    run: (_caller, _args, deps) => Promise.resolve({ issuers: deps.issuers.all().map(issuerView) }),
  }),
];
