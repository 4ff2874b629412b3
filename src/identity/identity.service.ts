import { Injectable } from '@nestjs/common';
import { ActorsErrors } from 'src/actors/actors.errors';
import { ActorsService, CLIENT_PRINCIPAL_NAMESPACE } from 'src/actors/actors.service';
import { MembershipsErrors } from 'src/memberships/memberships.errors';
import { OWN_ISSUER_NAME } from 'src/token-validation/own-tokens';
import type { OwnTokenClaims } from 'src/token-validation/token-claims';
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

/** A single-valued request header, or undefined. */
export function headerOf(
  headers: Record<string, unknown> | undefined,
  name: string,
): string | undefined {
  const v = headers?.[name];
  return typeof v === 'string' ? v : undefined;
}

/** Turns an `Authorization` header into a Principal: validated token → durable, active actor. */
@Injectable()
export class IdentityService {
  constructor(
    private readonly tokens: TokenValidationService,
    private readonly actors: ActorsService,
    private readonly memberships: MembershipsService,
  ) {}

  /**
   * `authorization`: the `Authorization` header; `projectId`: the `X-Bridgekeeper-Project` header, which
   * picks one membership when the caller's identity matches members of several projects.
   */
  async authenticate(authorization: string | undefined, projectId?: string): Promise<Principal> {
    const token = extractBearer(authorization);
    const validated = await this.tokens.validate(token);
    const { issuer, claims } = validated;
    if (claims.own) return this.authenticateOwn(validated, claims.own, projectId);
    const actor = await this.actors.resolve(
      issuer.name,
      claims.sub,
      claims,
      issuer.provisioning,
      validated.fresh,
    );
    if (actor.status !== 'ACTIVE') throw ActorsErrors.disabled();
    const membership = await this.memberships.resolve({
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
    };
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
    const membership = own.membership
      ? await this.memberships.forOwnToken(own.membership, actor.id)
      : undefined;
    if (projectId !== undefined && membership?.projectId !== projectId) {
      throw MembershipsErrors.notInProject();
    }
    this.actors.touch(actor);
    return {
      actor,
      membership,
      roles: this.actors.effectiveRoles(actor),
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
  if (!authorization || !/^bearer(\s|$)/i.test(authorization)) throw IdentityErrors.missing();
  const m = BEARER.exec(authorization);
  if (!m) throw IdentityErrors.malformedHeader();
  return m[1];
}
