import type { AuditRequest } from 'src/audit/audit-context';
import { AuditService } from 'src/audit/audit.service';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { ActorSnapshot } from 'src/actors/actor-snapshot';
import { ActorsErrors } from 'src/actors/actors.errors';
import { ActorsService, CLIENT_PRINCIPAL_NAMESPACE } from 'src/actors/actors.service';
import { AppError } from 'src/common/errors/app-error';
import { ADMIN_ROLE } from 'src/common/decorators/roles.decorator';
import { LOGGER } from 'src/common/logging/logging.constants';
import { toSnapshot as toMembershipSnapshot } from 'src/memberships/memberships.service';
import { MembershipsErrors } from 'src/memberships/memberships.errors';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { type ResourceKind, resourceKindOf } from 'src/token-validation/oauth-resources';
import { OWN_ISSUER_NAME } from 'src/token-validation/own-tokens';
import { TokenErrorCode, invalidToken } from 'src/token-validation/token-validation.errors';
import type { ActorClaim, OwnTokenClaims } from 'src/token-validation/token-claims';
import { IdentityErrors } from 'src/identity/identity.errors';
import { MembershipsService } from 'src/memberships/memberships.service';
import type { Principal } from 'src/identity/principal';
import {
  TokenValidationService,
  type ValidatedToken,
} from 'src/token-validation/token-validation.service';

const BEARER = /^Bearer +([^\s]+) *$/i;

/** Names the project whose membership a request acts in, when the caller is a member of several. */
export const PROJECT_HEADER = 'x-bridgekeeper-project';
/** Names the membership an admin client acts for (with one of our own client-credentials tokens). */
export const ON_BEHALF_OF_HEADER = 'x-bridgekeeper-on-behalf-of';

const forbidden = (code: string, message: string) => new AppError('FORBIDDEN', code, message);

export interface PrincipalOptions {
  /**
   * `X-Bridgekeeper-Project` (or a project-scoped client's project): the membership must be in this
   * project; a caller who is not a member of it is refused (403 NOT_IN_PROJECT).
   */
  projectId?: string;
  /** `X-Bridgekeeper-On-Behalf-Of` (a membership id): admin clients with one of our own tokens only. */
  onBehalfOf?: string;
  /** The request, for the audit log of an on-behalf-of call. */
  from?: AuditRequest;
  /**
   * For external tokens. `match` (the default): the membership the identity matches, if any (several
   * without a `projectId` are ambiguous). `projectOnly`: no membership unless a `projectId` is given,
   * then the one in that project, required (token exchange with `SUBJECT` resolution).
   */
  membership?: 'match' | 'projectOnly';
}

/** A single-valued request header, or undefined. */
export function headerOf(
  headers: Record<string, unknown> | undefined,
  name: string,
): string | undefined {
  const v = headers?.[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Turns a validated token (or an `Authorization` header) into a Principal: the durable, active actor
 * and its project membership.
 */
@Injectable()
export class IdentityService {
  constructor(
    private readonly audit: AuditService,
    private readonly tokens: TokenValidationService,
    private readonly actors: ActorsService,
    private readonly memberships: MembershipsService,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * The caller of an HTTP request, from its headers, for one protected resource (RFC 8707): `api` (the
   * REST guard and the GraphQL context) accepts our API-audience tokens and trusted issuers' tokens;
   * `mcp` (the MCP endpoint) accepts only our own MCP-audience tokens, never an external provider's
   * token (no passthrough). A token for the other resource is an invalid token (401).
   */
  async authenticateRequest(
    request: { headers?: Record<string, unknown> } & Partial<AuditRequest>,
    resource: ResourceKind = 'api',
  ): Promise<Principal> {
    const { headers } = request;
    const validated = await this.tokens.validate(extractBearer(headerOf(headers, 'authorization')));
    this.assertResource(validated, resource);
    return this.principalFor(validated, {
      projectId: headerOf(headers, PROJECT_HEADER),
      onBehalfOf: headerOf(headers, ON_BEHALF_OF_HEADER),
      ...(request.id !== undefined && request.ip !== undefined
        ? { from: { id: request.id, ip: request.ip } }
        : {}),
    });
  }

  /** Refuses a validated token that was not issued for `resource` (see `authenticateRequest`). */
  assertResource(validated: ValidatedToken, resource: ResourceKind): void {
    const own = validated.claims.own;
    if (!own) {
      if (resource === 'api') return;
      throw invalidToken(TokenErrorCode.TOKEN_CLAIMS_INVALID, 'external_token_on_mcp');
    }
    // Tokens from before resource indicators carry the API audience.
    const kind = resourceKindOf(this.config, own.aud ?? this.config.oauth.audience);
    if (kind !== resource) {
      throw invalidToken(TokenErrorCode.TOKEN_CLAIMS_INVALID, `audience_not_${resource}`);
    }
  }

  /**
   * The one way from an already validated token to a Principal (the REST guard and the GraphQL context
   * through `authenticateRequest`, token exchange, introspection and revocation): the durable, active
   * actor, and the project membership the options ask for. See `PrincipalOptions`.
   */
  async principalFor(
    validated: ValidatedToken,
    options: PrincipalOptions = {},
  ): Promise<Principal> {
    const { projectId, onBehalfOf, from } = options;
    const { issuer, claims } = validated;
    if (claims.own) {
      const principal = await this.authenticateOwn(
        validated,
        claims.own,
        onBehalfOf === undefined ? projectId : undefined,
      );
      return onBehalfOf === undefined
        ? principal
        : this.actOnBehalfOf(principal, onBehalfOf, projectId, from);
    }
    if (onBehalfOf !== undefined) {
      throw forbidden(
        'ON_BEHALF_OF_NOT_ALLOWED',
        'X-Bridgekeeper-On-Behalf-Of needs a Bridgekeeper token of an admin client',
      );
    }
    const actor = await this.actorFor(validated);
    if (actor.status !== 'ACTIVE') throw ActorsErrors.disabled();
    const membership =
      options.membership === 'projectOnly' && projectId === undefined
        ? undefined
        : await this.memberships.resolve({
            issuerName: issuer.name,
            subject: claims.sub,
            actorId: actor.id,
            fhirUser: claims.fhirUser,
            fhirBase: issuer.fhirBase,
            projectId,
          });
    this.actors.touch(actor);
    return {
      actor,
      membership,
      roles: this.actors.effectiveRoles(actor),
      issuer: issuer.name,
      tokenSha256: validated.sha256,
      external: { exp: claims.exp, userinfoCredentials: issuer.userinfoCredentials === true },
    };
  }

  /**
   * The actor of a validated external token, `(issuer, sub)` (SECURITY.md rule 5): created on first
   * sight when the issuer provisions just in time, its profile refreshed from a freshly verified token.
   * Its status is the caller's to check.
   */
  actorFor(validated: ValidatedToken): Promise<ActorSnapshot> {
    const { issuer, claims } = validated;
    return this.actors.resolve(
      issuer.name,
      claims.sub,
      claims,
      issuer.provisioning,
      validated.fresh,
    );
  }

  /**
   * An admin client (its own client-credentials token, ADMIN among its principal's roles) acting for a
   * project member: the request becomes the member's (actor, membership, roles), and records the caller.
   * A project-scoped client only acts for members of its project.
   */
  private async actOnBehalfOf(
    caller: Principal,
    membershipId: string,
    projectId: string | undefined,
    from: AuditRequest | undefined,
  ): Promise<Principal> {
    const own = caller.own!;
    const isClientPrincipal =
      caller.actor.issuerName === CLIENT_PRINCIPAL_NAMESPACE &&
      caller.actor.subject === own.clientId;
    const admin = caller.roles.includes(ADMIN_ROLE) || caller.adminOfProject !== undefined;
    if (!isClientPrincipal || !admin) {
      throw forbidden(
        'ON_BEHALF_OF_NOT_ALLOWED',
        'Only an admin client may act on behalf of a member',
      );
    }
    const entity = await this.memberships.get(membershipId.trim());
    if (caller.adminOfProject !== undefined && entity.projectId !== caller.adminOfProject) {
      throw forbidden(
        'ON_BEHALF_OF_OTHER_PROJECT',
        'This client may only act for members of its own project',
      );
    }
    if (projectId !== undefined && entity.projectId !== projectId) {
      throw forbidden(
        'ON_BEHALF_OF_OTHER_PROJECT',
        'The membership is not in the project named by X-Bridgekeeper-Project',
      );
    }
    if (!entity.active) {
      throw forbidden('ON_BEHALF_OF_INACTIVE', 'The membership is not active');
    }
    if (!entity.actorId) {
      throw forbidden(
        'ON_BEHALF_OF_NOT_LINKED',
        'The member has not signed in yet: the membership is not linked to an actor',
      );
    }
    const actor = await this.actors.snapshotById(entity.actorId);
    if (actor.status !== 'ACTIVE') {
      throw forbidden('ON_BEHALF_OF_ACTOR_DISABLED', 'The member’s actor is disabled');
    }
    this.logger.info(
      {
        callerActorId: caller.actor.id,
        clientId: own.clientId,
        actorId: actor.id,
        membershipId: entity.id,
        token: caller.tokenSha256.slice(0, 12),
      },
      'acting on behalf of a member',
    );
    this.audit.security(
      {
        action: 'on_behalf_of.use',
        actorId: actor.id,
        clientId: own.clientId,
        act: [{ sub: caller.actor.id, client_id: own.clientId }],
        targetType: 'membership',
        targetId: entity.id,
        projectId: entity.projectId,
      },
      from,
    );
    return {
      ...caller,
      actor,
      membership: toMembershipSnapshot(entity),
      roles: this.actors.effectiveRoles(actor),
      onBehalfOf: { actorId: caller.actor.id, clientId: own.clientId },
    };
  }

  /** The acting party of a delegated token: a client's principal (`sub` = `client_id`) or an actor. */
  private async assertActive(act: ActorClaim): Promise<void> {
    const agent =
      act.sub === act.client_id
        ? await this.actors.resolve(CLIENT_PRINCIPAL_NAMESPACE, act.sub, {}, 'existing', false)
        : await this.actors.snapshotById(act.sub);
    if (agent.status !== 'ACTIVE') throw ActorsErrors.disabled();
  }

  /**
   * One of our own tokens: `sub` is an actor id (a person), or the client's own `client_id` (client
   * credentials: the client's principal, in its own namespace). The membership it was issued for must
   * still be active; a project header may only confirm it.
   */
  private async authenticateOwn(
    validated: ValidatedToken,
    own: OwnTokenClaims,
    projectId: string | undefined,
  ): Promise<Principal> {
    const { claims } = validated;
    const actor =
      claims.sub === own.clientId
        ? await this.actors.resolve(CLIENT_PRINCIPAL_NAMESPACE, claims.sub, {}, 'existing', false)
        : await this.actors.snapshotById(claims.sub);
    if (actor.status !== 'ACTIVE') throw ActorsErrors.disabled();
    // A delegated token (RFC 8693 `act`): the agent acting now must still be allowed in too.
    if (own.act) await this.assertActive(own.act);
    const membership = own.membership
      ? await this.memberships.forOwnToken(own.membership, actor.id)
      : undefined;
    // The header may only confirm the project the token was issued for (its membership's, or a
    // project-scoped client's).
    if (projectId !== undefined && (membership?.projectId ?? own.project) !== projectId) {
      throw MembershipsErrors.notInProject();
    }
    this.actors.touch(actor);
    let roles = this.actors.effectiveRoles(actor);
    let adminOfProject: string | undefined;
    if (claims.sub === own.clientId && own.project !== undefined && roles.includes(ADMIN_ROLE)) {
      // A project-scoped client is never a server admin: its ADMIN role covers its project only.
      roles = roles.filter((r) => r !== ADMIN_ROLE);
      adminOfProject = own.project;
    }
    return {
      actor,
      membership,
      roles,
      ...(adminOfProject !== undefined ? { adminOfProject } : {}),
      issuer: OWN_ISSUER_NAME,
      tokenSha256: validated.sha256,
      own: { ...own, exp: claims.exp, iat: claims.iat },
    };
  }
}

/**
 * RFC 6750 §2.1: only the `Authorization: Bearer` header is accepted (never a query parameter). No
 * header, or another scheme, means "no credentials"; a Bearer header without a usable token is invalid.
 */
export function extractBearer(authorization: string | undefined): string {
  if (!authorization) throw IdentityErrors.missing();
  // One regular expression for a well-formed header; the scheme is looked at only to tell refusals apart.
  const m = BEARER.exec(authorization);
  if (m) return m[1];
  if (!/^bearer(\s|$)/i.test(authorization)) throw IdentityErrors.missing();
  throw IdentityErrors.malformedHeader();
}
