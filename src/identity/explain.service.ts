import { Injectable } from '@nestjs/common';
import type { ActorSnapshot } from 'src/actors/actor-snapshot';
import { ActorsService, CLIENT_PRINCIPAL_NAMESPACE } from 'src/actors/actors.service';
import { AppError } from 'src/common/errors/app-error';
import { isUuid } from 'src/common/validation/uuid';
import type { TrustedIssuerConfig } from 'src/config/config.types';
import type { MembershipSnapshot } from 'src/memberships/membership-snapshot';
import { MembershipsService } from 'src/memberships/memberships.service';
import type { TokenClaims } from 'src/token-validation/token-claims';
import {
  type ExplainStep,
  SKIPPED_AFTER_FAILURE,
  TokenExplainerService,
} from 'src/token-validation/token-explainer.service';

export interface Explanation {
  valid: boolean;
  issuer: string | null;
  subject: string | null;
  expiresAt: Date | null;
  steps: ExplainStep[];
}

/** Fixed texts for membership refusals, by their (internal) reason. */
const MEMBERSHIP_DETAILS: Record<string, string> = {
  fhir_user_invalid: "fhirUser claim is not a valid reference under the issuer's FHIR base",
  fhir_user_sub_conflict: 'fhirUser and sub match different members',
  membership_ambiguous: 'matches members of several projects; a project header is needed',
  membership_inactive: 'the membership is inactive',
  not_in_project: 'not a member of the named project',
  membership_linked_to_other_actor: 'the membership is linked to another actor',
};

/**
 * `explainToken`: the token-level steps, then the actor and membership steps (issue 4 §4), all
 * read-only: no actor is created or updated, no membership linked, nothing cached.
 */
@Injectable()
export class ExplainService {
  constructor(
    private readonly explainer: TokenExplainerService,
    private readonly actors: ActorsService,
    private readonly memberships: MembershipsService,
  ) {}

  async explain(token: string): Promise<Explanation> {
    const t = await this.explainer.explain(token);
    const steps = [...t.steps];
    const base = {
      issuer: t.issuer?.name ?? null,
      subject: t.subject ?? null,
      expiresAt: t.expiresAt ?? null,
    };
    if (!t.verified || !t.issuer || !t.claims) {
      const detail = steps.some((s) => s.outcome === 'FAIL')
        ? SKIPPED_AFTER_FAILURE
        : 'not checked: the token could not be verified here';
      steps.push(
        { name: 'actor', outcome: 'SKIPPED', detail },
        { name: 'membership', outcome: 'SKIPPED', detail },
      );
      return { valid: false, ...base, steps };
    }
    const { issuer, claims } = t;
    const actor = await this.actorStep(issuer, claims, steps);
    if (actor === false) {
      steps.push({ name: 'membership', outcome: 'SKIPPED', detail: SKIPPED_AFTER_FAILURE });
      return { valid: false, ...base, steps };
    }
    const ok = await this.membershipStep(issuer, claims, actor, steps);
    return { valid: ok, ...base, steps };
  }

  /** The actor, `null` for one that would be created on first use, `false` when refused. */
  private async actorStep(
    issuer: TrustedIssuerConfig,
    claims: TokenClaims,
    steps: ExplainStep[],
  ): Promise<ActorSnapshot | null | false> {
    let actor: ActorSnapshot | null;
    if (claims.own) {
      actor =
        claims.sub === claims.own.clientId
          ? await this.actors.findByIdentity(CLIENT_PRINCIPAL_NAMESPACE, claims.sub)
          : isUuid(claims.sub)
            ? await this.actors.findById(claims.sub)
            : null;
    } else {
      actor = await this.actors.findByIdentity(issuer.name, claims.sub);
    }
    if (!actor) {
      if (!claims.own && issuer.provisioning === 'jit') {
        steps.push({
          name: 'actor',
          outcome: 'PASS',
          detail: 'not found: would be created on first use (jit provisioning)',
        });
        return null;
      }
      steps.push({
        name: 'actor',
        outcome: 'FAIL',
        detail: 'not provisioned (this issuer only accepts existing actors)',
      });
      return false;
    }
    if (actor.status !== 'ACTIVE') {
      steps.push({ name: 'actor', outcome: 'FAIL', detail: `actor ${actor.id} is disabled` });
      return false;
    }
    steps.push({ name: 'actor', outcome: 'PASS', detail: `found: actor ${actor.id}` });
    return actor;
  }

  private async membershipStep(
    issuer: TrustedIssuerConfig,
    claims: TokenClaims,
    actor: ActorSnapshot | null,
    steps: ExplainStep[],
  ): Promise<boolean> {
    let m: MembershipSnapshot | undefined;
    try {
      if (claims.own) {
        if (!claims.own.membership) {
          steps.push({
            name: 'membership',
            outcome: 'PASS',
            detail: 'none (the token names no membership)',
          });
          return true;
        }
        m = await this.memberships.forOwnToken(claims.own.membership, actor!.id);
      } else {
        m = await this.memberships.preview({
          issuerName: issuer.name,
          subject: claims.sub,
          actorId: actor?.id ?? null,
          fhirUser: claims.fhirUser,
          fhirBase: issuer.fhirBase,
        });
      }
    } catch (err) {
      if (!(err instanceof AppError) || err.kind !== 'INVALID_TOKEN') throw err;
      steps.push({
        name: 'membership',
        outcome: 'FAIL',
        detail: MEMBERSHIP_DETAILS[err.reason ?? ''] ?? 'membership refused',
      });
      return false;
    }
    if (!m) {
      steps.push({
        name: 'membership',
        outcome: 'PASS',
        detail: 'none: no membership matches (the actor alone)',
      });
      return true;
    }
    const link = m.actorId === null ? ' (would be linked on first use)' : '';
    steps.push({
      name: 'membership',
      outcome: 'PASS',
      detail: `membership ${m.id} in project ${m.projectId}${link}`,
    });
    return true;
  }
}
