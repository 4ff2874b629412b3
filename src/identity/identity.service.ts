import { Injectable } from '@nestjs/common';
import { ActorsErrors } from 'src/actors/actors.errors';
import { ActorsService } from 'src/actors/actors.service';
import { IdentityErrors } from 'src/identity/identity.errors';
import type { Principal } from 'src/identity/principal';
import { TokenValidationService } from 'src/token-validation/token-validation.service';

const BEARER = /^Bearer +([^\s]+) *$/i;

/** Turns an `Authorization` header into a Principal: validated token → durable, active actor. */
@Injectable()
export class IdentityService {
  constructor(
    private readonly tokens: TokenValidationService,
    private readonly actors: ActorsService,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const token = extractBearer(authorization);
    const validated = await this.tokens.validate(token);
    const { issuer, claims } = validated;
    const actor = await this.actors.resolve(
      issuer.name,
      claims.sub,
      claims,
      issuer.provisioning,
      validated.fresh,
    );
    if (actor.status !== 'ACTIVE') throw ActorsErrors.disabled();
    this.actors.touch(actor);
    return {
      actor,
      roles: this.actors.effectiveRoles(actor),
      issuer: issuer.name,
      tokenSha256: validated.sha256,
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
