import type { AuditRequest } from 'src/audit/audit-context';
import { AuditService } from 'src/audit/audit.service';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { ActorSnapshot } from 'src/actors/actor-snapshot';
import { ActorsService, CLIENT_PRINCIPAL_NAMESPACE } from 'src/actors/actors.service';
import type { ClientSnapshot } from 'src/clients/client-snapshot';
import { AppError } from 'src/common/errors/app-error';
import { LOGGER } from 'src/common/logging/logging.constants';
import { APP_CONFIG } from 'src/config/config.constants';
import type { AppConfig } from 'src/config/config.types';
import { IdentityService } from 'src/identity/identity.service';
import type { MembershipSnapshot } from 'src/memberships/membership-snapshot';
import { MembershipsService } from 'src/memberships/memberships.service';
import { AccessTokensService } from 'src/oauth/access-tokens.service';
import { GrantsService } from 'src/oauth/grants/grants.service';
import { type OauthForm, parseScope } from 'src/oauth/oauth-form';
import { OauthErrors } from 'src/oauth/oauth.errors';
import {
  assertScopeFitsResource,
  defaultScopeFor,
  scopesForResource,
  targetResource,
} from 'src/oauth/resource-target';
import type { Principal } from 'src/identity/principal';
import {
  type ResourceKind,
  resourceKindOf,
  scopeOutsideResource,
} from 'src/token-validation/oauth-resources';
import { MAX_ACT_DEPTH, OWN_ISSUER_NAME } from 'src/token-validation/own-tokens';
import type { ActorClaim } from 'src/token-validation/token-claims';
import {
  TokenValidationService,
  type ValidatedToken,
} from 'src/token-validation/token-validation.service';

export const TOKEN_TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
export const TOKEN_TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt';
const SUBJECT_TOKEN_TYPES = [TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT];
const OFFLINE_ACCESS = 'offline_access';
/** The same cap the bearer path applies (SECURITY.md rule 3). */
const MAX_SUBJECT_TOKEN = 8192;

export interface ExchangeResult {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  issued_token_type: string;
  refresh_token?: string;
}

interface Subject {
  actor: ActorSnapshot;
  membership?: MembershipSnapshot;
}

/**
 * RFC 8693 token exchange (issue 4 §2, SECURITY.md rule 12): an authenticated client trades a token of
 * a trusted issuer it is explicitly allowed to exchange (`exchangeIssuers`) for a Bridgekeeper access
 * token of the same person. The scope is never wider than the client's, the result never outlives the
 * subject token, and our own tokens are never exchanged again (no laundering of a token into a new one
 * with another client's name, and no way to stretch a session).
 */
@Injectable()
export class TokenExchangeService {
  constructor(
    private readonly audit: AuditService,
    private readonly validation: TokenValidationService,
    private readonly identity: IdentityService,
    private readonly actors: ActorsService,
    private readonly memberships: MembershipsService,
    private readonly accessTokens: AccessTokensService,
    private readonly grants: GrantsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async exchange(
    client: ClientSnapshot,
    form: OauthForm,
    from?: AuditRequest,
  ): Promise<ExchangeResult> {
    const subjectToken = form.require('subject_token');
    const subjectTokenType = form.require('subject_token_type');
    if (!SUBJECT_TOKEN_TYPES.includes(subjectTokenType)) {
      throw OauthErrors.invalidRequest('subject_token_type is not supported');
    }
    const requestedType = form.get('requested_token_type');
    if (requestedType !== undefined && requestedType !== TOKEN_TYPE_ACCESS_TOKEN) {
      throw OauthErrors.invalidRequest('Only access tokens can be requested');
    }
    if (form.get('actor_token') !== undefined || form.get('actor_token_type') !== undefined) {
      return this.delegate(client, form, subjectToken);
    }
    const resource = this.exchangeTarget(form);
    const requested = parseScope(form.get('scope'));
    const refreshAllowed = client.grantTypes.includes('refresh_token');
    if (requested?.includes(OFFLINE_ACCESS) && !refreshAllowed) {
      throw OauthErrors.invalidScope('offline_access needs the refresh_token grant');
    }
    if (requested) assertScopeFitsResource(resource, requested);
    const allowed = scopesForResource(resource, client.scopes);
    let scope = requested ?? defaultScopeFor(resource, allowed);
    if (scope.some((s) => !allowed.includes(s))) throw OauthErrors.invalidScope();
    if (!refreshAllowed) scope = scope.filter((s) => s !== OFFLINE_ACCESS);

    if (subjectToken.length > MAX_SUBJECT_TOKEN || /\s/.test(subjectToken)) {
      throw OauthErrors.invalidGrant('subject_token_malformed', 'The subject token is invalid');
    }
    const validated = await refusedAsInvalidGrant(() => this.validation.validate(subjectToken));
    const { issuer, claims } = validated;
    if (claims.own) {
      throw OauthErrors.invalidGrant(
        'exchange_own_token',
        'Bridgekeeper tokens cannot be exchanged again',
      );
    }
    if (!client.exchangeIssuers.includes(issuer.name)) {
      throw OauthErrors.invalidGrant(
        'exchange_issuer_not_allowed',
        'This client may not exchange tokens of this issuer',
      );
    }
    const subject = await refusedAsInvalidGrant(() => this.resolveSubject(client, validated));
    if (subject.actor.status !== 'ACTIVE') throw OauthErrors.invalidGrant('actor_disabled');
    if (subject.membership && !subject.membership.active) {
      throw OauthErrors.invalidGrant('membership_inactive');
    }

    const notAfter = claims.exp;
    let refreshToken: string | undefined;
    let sid: string | undefined;
    if (scope.includes(OFFLINE_ACCESS)) {
      const created = await this.grants.create({
        clientId: client.clientId,
        actorId: subject.actor.id,
        scope,
        membershipId: subject.membership?.id,
        notAfter,
        resource,
      });
      refreshToken = created.refreshToken;
      sid = created.grant.id;
    }
    const at = await this.accessTokens.issue({
      sub: subject.actor.id,
      clientId: client.clientId,
      scope,
      sid,
      membership: subject.membership?.id,
      project: subject.membership?.projectId,
      notAfter,
      resource,
    });
    this.logger.info(
      {
        clientId: client.clientId,
        issuer: issuer.name,
        actorId: subject.actor.id,
        membershipId: subject.membership?.id,
        subjectToken: validated.sha256.slice(0, 12),
        jti: at.jti,
        sid,
      },
      'token exchanged',
    );
    this.audit.security(
      {
        action: 'token.exchange',
        actorId: subject.actor.id,
        clientId: client.clientId,
        targetType: 'actor',
        targetId: subject.actor.id,
        projectId: subject.membership?.projectId ?? null,
        details: { issuer: issuer.name, jti: at.jti, ...(sid ? { grant: sid } : {}) },
      },
      from,
    );
    return {
      access_token: at.token,
      token_type: 'Bearer',
      expires_in: at.expiresIn,
      scope: at.scope.join(' '),
      issued_token_type: TOKEN_TYPE_ACCESS_TOKEN,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    };
  }

  /**
   * RFC 8693 delegation (§1.1, §4.1): an agent (the authenticated client, proving itself with its own
   * Bridgekeeper token as `actor_token`) acts for the person of `subject_token` (one of our tokens). The
   * new token's `sub` is the person and its `act` the agent, with the subject token's own `act` nested
   * inside (delegated again); its scope is the subject token's or narrower, never wider; it never
   * outlives the subject token and belongs to the same grant (`sid`), so ending the person's session
   * ends it. No refresh token: the agent asks again with a fresh subject token. Refused when the person
   * (or the agent) is disabled, at the exchange and on every use.
   */
  private async delegate(
    client: ClientSnapshot,
    form: OauthForm,
    subjectToken: string,
  ): Promise<ExchangeResult> {
    const actorToken = form.require('actor_token');
    const actorTokenType = form.require('actor_token_type');
    if (!SUBJECT_TOKEN_TYPES.includes(actorTokenType)) {
      throw OauthErrors.invalidRequest('actor_token_type is not supported');
    }
    const requested = parseScope(form.get('scope'));
    if (requested?.includes(OFFLINE_ACCESS)) {
      throw OauthErrors.invalidScope('A delegated token comes without a refresh token');
    }
    if (!client.exchangeIssuers.includes(OWN_ISSUER_NAME)) {
      throw OauthErrors.invalidGrant(
        'delegation_not_allowed',
        'This client may not act for people (exchangeIssuers does not name bridgekeeper)',
      );
    }
    const subject = await this.ownToken(subjectToken, 'subject');
    const own = subject.own!;
    // A client's own (client-credentials) token names no person to act for.
    if (isClientPrincipal(subject)) {
      throw OauthErrors.invalidGrant(
        'delegation_subject_not_person',
        'The subject token must be a person’s token',
      );
    }
    const agent = await this.ownToken(actorToken, 'actor');
    if (agent.own!.clientId !== client.clientId) {
      throw OauthErrors.invalidGrant(
        'actor_token_other_client',
        'The actor token must be one issued to the client making this request',
      );
    }
    const act = nestActor({ sub: actingSub(agent), client_id: client.clientId }, own.act);
    if (!act) {
      throw OauthErrors.invalidGrant('delegation_too_deep', 'The token was delegated too often');
    }
    const subjectResource = resourceKindOf(this.config, own.aud) ?? 'api';
    const explicit = form.get('resource') ?? form.get('audience');
    const resource = explicit === undefined ? subjectResource : this.exchangeTarget(form);
    const held = own.scope.split(' ').filter((s) => s.length > 0 && s !== OFFLINE_ACCESS);
    const scope =
      requested ?? held.filter((s) => scopeOutsideResource(resource, [s]) === undefined);
    if (scope.some((s) => !held.includes(s))) {
      throw OauthErrors.invalidScope('A delegated token can only narrow the subject token’s scope');
    }
    assertScopeFitsResource(resource, scope);
    const at = await this.accessTokens.issue({
      sub: subject.actor.id,
      clientId: client.clientId,
      scope,
      sid: own.sid,
      membership: subject.membership?.id,
      project: own.project,
      notAfter: own.exp,
      resource,
      act,
    });
    this.logger.info(
      {
        clientId: client.clientId,
        actorId: subject.actor.id,
        act,
        subjectToken: subject.tokenSha256.slice(0, 12),
        actorToken: agent.tokenSha256.slice(0, 12),
        jti: at.jti,
        sid: own.sid,
        resource,
      },
      'token delegated',
    );
    return {
      access_token: at.token,
      token_type: 'Bearer',
      expires_in: at.expiresIn,
      scope: at.scope.join(' '),
      issued_token_type: TOKEN_TYPE_ACCESS_TOKEN,
    };
  }

  /** One of our own valid tokens, of an active actor (a refusal is `invalid_grant`, naming which). */
  private async ownToken(token: string, which: 'subject' | 'actor'): Promise<Principal> {
    if (token.length > MAX_SUBJECT_TOKEN || /\s/.test(token)) {
      throw OauthErrors.invalidGrant(`${which}_token_malformed`, `The ${which} token is invalid`);
    }
    const principal = await refusedAsInvalidGrant(async () => {
      const validated = await this.validation.validate(token);
      if (!validated.claims.own) {
        throw OauthErrors.invalidGrant(
          `${which}_token_not_ours`,
          `The ${which} token must be a Bridgekeeper token`,
        );
      }
      return this.identity.principalFor(validated);
    }, `The ${which} token is invalid`);
    if (principal.actor.status !== 'ACTIVE') {
      throw OauthErrors.invalidGrant('actor_disabled', `The ${which} token is invalid`);
    }
    return principal;
  }

  /**
   * RFC 8693 §2.1 `resource` and `audience` (RFC 8707): either names a resource of the allow-list (the
   * API by default); when both are given they must name the same one.
   */
  private exchangeTarget(form: OauthForm): ResourceKind {
    const byResource = form.get('resource');
    const byAudience = form.get('audience');
    const kind = targetResource(this.config, byResource ?? byAudience);
    if (byResource !== undefined && byAudience !== undefined) {
      if (targetResource(this.config, byAudience) !== kind) {
        throw OauthErrors.invalidTarget('resource and audience name different resources');
      }
    }
    return kind;
  }

  private async resolveSubject(
    client: ClientSnapshot,
    validated: ValidatedToken,
  ): Promise<Subject> {
    // A project-scoped client only ever gets members of its project.
    const projectId = client.projectId ?? undefined;
    switch (client.subjectResolution) {
      case 'MEMBERSHIP':
        // Exactly what a direct request with this token would be.
        return this.identity.principalFor(validated, { projectId });
      case 'SUBJECT':
        // The actor of (issuer, sub); a membership only for a project-scoped client.
        return this.identity.principalFor(validated, { projectId, membership: 'projectOnly' });
      case 'EMAIL':
        return this.byEmail(client, validated);
      default:
        throw OauthErrors.invalidGrant('subject_resolution_unknown');
    }
  }

  /**
   * Email matching (SECURITY.md rule 5): only a verified email, only of an issuer configured to allow
   * it, only within that issuer (an issuer can never reach a person who signed in through another).
   * With a project: the membership invited with that email, linked to this issuer's actor on first use;
   * without one: the one existing actor of this issuer with that verified email.
   */
  private async byEmail(client: ClientSnapshot, validated: ValidatedToken): Promise<Subject> {
    const { issuer, claims } = validated;
    if (!issuer.emailMatching) throw OauthErrors.invalidGrant('email_matching_not_allowed');
    if (claims.email_verified !== true || !claims.email) {
      throw OauthErrors.invalidGrant('email_not_verified');
    }
    const email = claims.email.toLowerCase();
    if (client.projectId === null) {
      const actors = await this.actors.findByVerifiedEmail(issuer.name, email, 2);
      if (actors.length !== 1) throw OauthErrors.invalidGrant('email_no_single_actor');
      return { actor: actors[0] };
    }
    const invited = await this.memberships.invitedByEmail(client.projectId, email);
    if (!invited) throw OauthErrors.invalidGrant('email_no_membership');
    const { membership, issuerName } = invited;
    if (issuerName !== null && issuerName !== issuer.name) {
      throw OauthErrors.invalidGrant('email_membership_other_issuer');
    }
    if (!membership.active) throw OauthErrors.invalidGrant('membership_inactive');
    if (membership.actorId !== null) {
      const actor = await this.actors.snapshotById(membership.actorId);
      if (actor.issuerName !== issuer.name) {
        throw OauthErrors.invalidGrant('email_membership_other_issuer');
      }
      return { actor, membership };
    }
    const actor = await this.identity.actorFor(validated);
    // Link on first use, never re-link (the same rule as membership resolution).
    return { actor, membership: await this.memberships.linkToActor(membership, actor.id) };
  }
}

/**
 * A subject token (or its person) that is refused is the client's `invalid_grant`, with a fixed reason
 * and never the token; a fault that is not the caller's (an IdP or the database down) stays a 503.
 */
async function refusedAsInvalidGrant<T>(
  fn: () => Promise<T>,
  description = 'The subject token is invalid',
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (
      err instanceof AppError &&
      (err.kind === 'INVALID_TOKEN' || err.kind === 'BAD_INPUT' || err.kind === 'FORBIDDEN')
    ) {
      throw OauthErrors.invalidGrant(err.reason ?? 'subject_token_invalid', description);
    }
    throw err;
  }
}

/**
 * The acting party's `sub` in `act` (RFC 8693 §4.1): the actor id of a person or agent actor, or the
 * client's own `client_id` for a client-credentials token (as that token's own `sub`).
 */
function actingSub(agent: Principal): string {
  return isClientPrincipal(agent) ? agent.own!.clientId : agent.actor.id;
}

/** A client-credentials token: its actor is the client's principal. */
function isClientPrincipal(p: Principal): boolean {
  return p.actor.issuerName === CLIENT_PRINCIPAL_NAMESPACE && p.actor.subject === p.own?.clientId;
}

/** The new `act` with the subject token's own `act` nested inside; undefined when too deep. */
function nestActor(current: ActorClaim, previous: ActorClaim | undefined): ActorClaim | undefined {
  let depth = 1;
  for (let a = previous; a; a = a.act) depth++;
  if (depth > MAX_ACT_DEPTH) return undefined;
  return previous ? { ...current, act: previous } : current;
}
