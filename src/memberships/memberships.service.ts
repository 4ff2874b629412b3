import type { AuditRequest } from 'src/audit/audit-context';
import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, type FindOptionsWhere, In, type Repository } from 'typeorm';
import { AuditService } from 'src/audit/audit.service';
import { CacheKeys } from 'src/cache/cache-keys';
import { CacheService } from 'src/cache/cache.service';
import type { AuthenticatedCaller } from 'src/common/auth/caller';
import { ADMIN_ROLE } from 'src/common/decorators/roles.decorator';
import { dbCall, uniqueViolation } from 'src/common/errors/db-errors';
import { isUuid } from 'src/common/validation/uuid';
import {
  canonicalizeFhirUser,
  type FhirUserRef,
  type ProfileResourceType,
} from 'src/memberships/fhir-user';
import type { MembershipSnapshot } from 'src/memberships/membership-snapshot';
import { MembershipEntity } from 'src/memberships/membership.entity';
import { MembershipsErrors } from 'src/memberships/memberships.errors';
import { ProfileEntity, type ProfileIdentifier } from 'src/memberships/profile.entity';
import { ProjectAccess } from 'src/projects/project-access';
import { ProjectsService } from 'src/projects/projects.service';

export interface MembershipQuery {
  issuerName: string;
  subject: string;
  actorId: string;
  fhirUser?: string;
  fhirBase?: string;
  /** Value of `X-Bridgekeeper-Project`, when sent. */
  projectId?: string;
}

/**
 * A person to invite into a project, already checked by the caller: `issuerName` is a trusted issuer
 * (or null: bound to none), `email` is lower-cased.
 */
export interface MemberDraft {
  resourceType: ProfileResourceType;
  givenName: string;
  familyName: string;
  email?: string;
  externalId?: string;
  /** The issuer whose tokens find the member (by externalId or fhirUser); null: none. */
  issuerName: string | null;
  /** Replaces the profile's identifiers; absent: none for a new member, unchanged on an upsert. */
  identifiers?: ProfileIdentifier[];
  /** Absent: false for a new member, unchanged on an upsert. */
  admin?: boolean;
}

export interface InvitedMember {
  membership: MembershipEntity;
  /** A new membership, or the existing one updated (upsert). */
  created: boolean;
}

/** Resolutions are cached briefly; every membership change bumps a generation that voids them all. */
const RESOLUTION_TTL_MS = 60_000;
const GENERATION_REFRESH_MS = 1_000;

@Injectable()
export class MembershipsService implements ProjectAccess {
  private bound?: { generation: string; issuers: Set<string> };
  private recentGeneration?: { value: string; at: number };

  /**
   * The current membership generation. Read from the shared cache at most once per second per node:
   * a change made on this node is seen here at once, one made on another node within a second (the
   * same bound SECURITY.md rule 13 sets for revocation).
   */
  private async generation(): Promise<string> {
    const now = Date.now();
    if (this.recentGeneration && now - this.recentGeneration.at < GENERATION_REFRESH_MS) {
      return this.recentGeneration.value;
    }
    const value = (await this.cache.get<string>(CacheKeys.membershipGeneration())) ?? '0';
    this.recentGeneration = { value, at: now };
    return value;
  }

  constructor(
    @InjectRepository(MembershipEntity) private readonly repo: Repository<MembershipEntity>,
    @InjectRepository(ProfileEntity) private readonly profiles: Repository<ProfileEntity>,
    private readonly projects: ProjectsService,
    private readonly cache: CacheService,
    private readonly audit: AuditService,
  ) {}

  /**
   * Which project member a verified token is (issue 3 §2): its `fhirUser` (canonicalized, rule 6) or
   * else its `sub` matched to an `externalId`, both only among memberships bound to the token's own
   * issuer (an issuer cannot claim another issuer's members). `undefined`: no membership (the actor
   * alone). Conflicts, ambiguity without a project header, an inactive membership, or a membership
   * already linked to another actor are 401s.
   */
  async resolve(q: MembershipQuery): Promise<MembershipSnapshot | undefined> {
    const { m, cached } = await this.find(q, true);
    if (!cached && m && m.actorId === null) await this.link(m, q.actorId);
    return m;
  }

  /**
   * What `resolve` would answer, without any side effect: no link, no cache write. `actorId: null` for
   * an actor that does not exist yet (any membership linked to someone is then linked elsewhere). A
   * returned membership with `actorId: null` would be linked on first use. Always read from the database.
   */
  async preview(
    q: Omit<MembershipQuery, 'actorId'> & { actorId: string | null },
  ): Promise<MembershipSnapshot | undefined> {
    return (await this.find(q, false)).m;
  }

  private async find(
    q: Omit<MembershipQuery, 'actorId'> & { actorId: string | null },
    store: boolean,
  ): Promise<{ m: MembershipSnapshot | undefined; cached: boolean }> {
    if (q.projectId !== undefined && !isUuid(q.projectId))
      throw MembershipsErrors.badProjectHeader();
    const generation = await this.generation();
    // Most callers of most issuers are nobody's members: skip the lookup for issuers that have none.
    if (!(await this.issuersWithMemberships(generation)).has(q.issuerName)) {
      if (q.projectId !== undefined) throw MembershipsErrors.notInProject();
      return { m: undefined, cached: false };
    }
    const key = CacheKeys.membershipResolution(
      q.issuerName,
      q.subject,
      q.fhirUser,
      q.projectId,
      generation,
    );
    // A preview reads the database itself: a cached resolution may predate the membership's link.
    const cached = store ? await this.cache.get<{ m: MembershipSnapshot | null }>(key) : undefined;
    if (cached) return { m: this.checked(cached.m ?? undefined, q.actorId), cached: true };
    const found = await dbCall(() => this.lookup(q));
    if (store) await this.cache.set(key, { m: found ?? null }, RESOLUTION_TTL_MS);
    return { m: this.checked(found, q.actorId), cached: false };
  }

  /**
   * Issuers that have at least one membership, recomputed on this node when the generation changes
   * (every membership change sets a new one, on every node sharing the cache).
   */
  private async issuersWithMemberships(generation: string): Promise<Set<string>> {
    if (this.bound?.generation === generation) return this.bound.issuers;
    const rows = await dbCall(
      () =>
        this.repo.query(
          'SELECT DISTINCT issuer_name FROM project_memberships WHERE issuer_name IS NOT NULL',
        ) as Promise<{ issuer_name: string }[]>,
    );
    const issuers = new Set(rows.map((r) => r.issuer_name));
    this.bound = { generation, issuers };
    return issuers;
  }

  /**
   * The membership one of Bridgekeeper's own tokens names (it was resolved when the token was issued):
   * still there, still active, and still this actor's. Cached per generation, like resolutions.
   */
  async forOwnToken(membershipId: string, actorId: string): Promise<MembershipSnapshot> {
    if (!isUuid(membershipId)) throw MembershipsErrors.inactive();
    const generation = await this.generation();
    const key = CacheKeys.membershipById(membershipId, generation);
    let cached = await this.cache.get<{ m: MembershipSnapshot | null }>(key);
    if (!cached) {
      const row = await dbCall(() =>
        this.repo.findOne({ where: { id: membershipId }, relations: { profile: true } }),
      );
      cached = { m: row ? toSnapshot(row) : null };
      await this.cache.set(key, cached, RESOLUTION_TTL_MS);
    }
    if (!cached.m) throw MembershipsErrors.inactive();
    const m = this.checked(cached.m, actorId);
    if (!m || m.actorId !== actorId) throw MembershipsErrors.linkedElsewhere();
    return m;
  }

  private checked(
    m: MembershipSnapshot | undefined,
    actorId: string | null,
  ): MembershipSnapshot | undefined {
    if (!m) return undefined;
    if (!m.active) throw MembershipsErrors.inactive();
    if (m.actorId !== null && m.actorId !== actorId) throw MembershipsErrors.linkedElsewhere();
    return m;
  }

  private async lookup(
    q: Omit<MembershipQuery, 'actorId'>,
  ): Promise<MembershipSnapshot | undefined> {
    let candidates: MembershipSnapshot[];
    const bySub = await this.bySubject(q.issuerName, q.subject);
    if (q.fhirUser !== undefined) {
      const ref = canonicalizeFhirUser(q.fhirUser, q.fhirBase);
      if (!ref) throw MembershipsErrors.fhirUserInvalid();
      candidates = await this.byFhirUser(q.issuerName, ref);
      // fhirUser wins, but a sub that names other members is a conflict (rule 6).
      if (bySub.length > 0 && !bySub.some((s) => candidates.some((c) => c.id === s.id))) {
        throw MembershipsErrors.conflict();
      }
    } else {
      candidates = bySub;
    }
    if (q.projectId !== undefined) {
      candidates = candidates.filter((c) => c.projectId === q.projectId);
      if (candidates.length === 0) throw MembershipsErrors.notInProject();
    }
    if (candidates.length > 1) throw MembershipsErrors.ambiguous();
    return candidates[0];
  }

  private async bySubject(issuerName: string, subject: string): Promise<MembershipSnapshot[]> {
    const rows = await this.repo.find({
      where: { issuerName, externalId: subject },
      relations: { profile: true },
    });
    return rows.map(toSnapshot);
  }

  private async byFhirUser(issuerName: string, ref: FhirUserRef): Promise<MembershipSnapshot[]> {
    const qb = this.repo
      .createQueryBuilder('m')
      .innerJoinAndSelect('m.profile', 'p')
      .where('m.issuer_name = :issuerName', { issuerName })
      .andWhere('p.resource_type = :type', { type: ref.resourceType });
    if (ref.kind === 'reference') {
      if (!isUuid(ref.id)) return [];
      qb.andWhere('p.id = :id', { id: ref.id });
    } else {
      const identifier =
        ref.system === undefined ? { value: ref.value } : { system: ref.system, value: ref.value };
      qb.andWhere('p.identifiers @> :ids::jsonb', { ids: JSON.stringify([identifier]) });
    }
    return (await qb.getMany()).map(toSnapshot);
  }

  /**
   * The member of a project invited with this email (lower-cased), with the issuer it is bound to (by
   * externalId or by the invite): the candidate for email matching (token exchange, SECURITY.md rule 5),
   * decided by the caller.
   */
  async invitedByEmail(
    projectId: string,
    email: string,
  ): Promise<{ membership: MembershipSnapshot; issuerName: string | null } | undefined> {
    const row = await dbCall(() =>
      this.repo.findOne({
        where: { projectId, email: email.toLowerCase() },
        relations: { profile: true },
      }),
    );
    return row ? { membership: toSnapshot(row), issuerName: row.issuerName } : undefined;
  }

  /**
   * The active membership a person holds in a project, for a client limited to that project (the
   * authorization-code flow): the membership already linked to the actor, else the one their
   * `(issuer, sub)` names by `externalId` (linked now, as on their first API call). None, inactive or
   * linked to someone else: refused with the same error as a project header the caller is not in.
   */
  async forActorInProject(
    actor: { id: string; issuerName: string; subject: string },
    projectId: string,
  ): Promise<MembershipSnapshot> {
    const linked = await dbCall(() =>
      this.repo.findOne({
        where: { actorId: actor.id, projectId },
        relations: { profile: true },
      }),
    );
    const m = linked
      ? toSnapshot(linked)
      : await this.resolve({
          issuerName: actor.issuerName,
          subject: actor.subject,
          actorId: actor.id,
          projectId,
        });
    if (!m) throw MembershipsErrors.notInProject();
    if (!m.active) throw MembershipsErrors.inactive();
    return m;
  }

  /** Links a membership to an actor on first use, never re-links (linked elsewhere → 401). */
  async linkToActor(m: MembershipSnapshot, actorId: string): Promise<MembershipSnapshot> {
    const linked = { ...m };
    if (linked.actorId === null) await this.link(linked, actorId);
    else if (linked.actorId !== actorId) throw MembershipsErrors.linkedElsewhere();
    return linked;
  }

  private async link(m: MembershipSnapshot, actorId: string): Promise<void> {
    const result = await dbCall(() =>
      this.repo
        .createQueryBuilder()
        .update(MembershipEntity)
        .set({ actorId })
        .where('id = :id AND actor_id IS NULL', { id: m.id })
        .execute(),
    );
    if (result.affected === 0) {
      const current = await dbCall(() => this.repo.findOneBy({ id: m.id }));
      if (current?.actorId !== actorId) throw MembershipsErrors.linkedElsewhere();
    }
    m.actorId = actorId;
    await this.changed();
  }

  /**
   * Voids every cached resolution (after any membership change, on every node sharing the cache). A new
   * random generation rather than an increment: two concurrent changes can never leave the same value.
   * Public for writes made in another module's transaction (a set-password link binds its membership).
   */
  async changed(): Promise<void> {
    const generation = randomUUID();
    this.recentGeneration = { value: generation, at: Date.now() };
    await this.cache.set(CacheKeys.membershipGeneration(), generation, 365 * 24 * 3600 * 1000);
  }

  /** Server admins may manage any project; a project admin only that project. 404 for an unknown one. */
  async assertCanManage(caller: AuthenticatedCaller, projectId: string): Promise<void> {
    if (caller.roles.includes(ADMIN_ROLE) || caller.adminOfProject === projectId) {
      await this.projects.get(projectId);
      return;
    }
    if (!isUuid(projectId)) throw MembershipsErrors.notProjectAdmin();
    const admin = await dbCall(() =>
      this.repo.exists({
        where: { projectId, actorId: caller.actor.id, admin: true, active: true },
      }),
    );
    if (!admin) throw MembershipsErrors.notProjectAdmin();
  }

  /** Ids of the projects the caller may manage; undefined: every project (server admin). */
  async manageableProjectIds(caller: AuthenticatedCaller): Promise<string[] | undefined> {
    if (caller.roles.includes(ADMIN_ROLE)) return undefined;
    if (caller.adminOfProject !== undefined) return [caller.adminOfProject];
    const rows = await dbCall(() =>
      this.repo.find({
        where: { actorId: caller.actor.id, admin: true, active: true },
        select: { projectId: true },
      }),
    );
    return rows.map((r) => r.projectId);
  }

  /**
   * Invites a person into a project ahead of their first sign-in: the profile and the membership are
   * written in one transaction, so a failure leaves neither; the database's unique constraints decide
   * races (of 50 concurrent invites of one externalId, one succeeds and the rest are 409). With
   * `upsert`, the same person (both keys agreeing with what is stored) is updated instead of a 409.
   * Every cached resolution is voided after the commit.
   */
  async invite(
    projectId: string,
    draft: MemberDraft,
    options: { upsert: boolean; from?: AuditRequest },
  ): Promise<InvitedMember> {
    try {
      const result = await dbCall(() =>
        this.repo.manager.transaction(async (tx) => {
          const invited = await this.writeInvite(tx, projectId, draft, options);
          await this.audit.record(
            tx,
            {
              action: invited.created ? 'membership.invite' : 'membership.update',
              targetType: 'membership',
              targetId: invited.membership.id,
              projectId,
              details: { admin: invited.membership.admin },
            },
            options.from,
          );
          return invited;
        }),
      );
      await this.changed();
      return result;
    } catch (err) {
      const constraint = uniqueViolation(err);
      if (constraint === 'uq_memberships_project_issuer_external')
        throw MembershipsErrors.alreadyMember('externalId');
      if (constraint === 'uq_memberships_project_email')
        throw MembershipsErrors.alreadyMember('email');
      throw err;
    }
  }

  private async writeInvite(
    tx: EntityManager,
    projectId: string,
    d: MemberDraft,
    options: { upsert: boolean },
  ): Promise<InvitedMember> {
    const repo = tx.getRepository(MembershipEntity);
    const profiles = tx.getRepository(ProfileEntity);
    const byExternal = d.externalId
      ? await repo.findOne({
          where: { projectId, issuerName: d.issuerName!, externalId: d.externalId },
          relations: { profile: true },
        })
      : null;
    const byEmail = d.email
      ? await repo.findOne({ where: { projectId, email: d.email }, relations: { profile: true } })
      : null;
    const existing = byExternal ?? byEmail;
    if (!existing) {
      const profile = await profiles.save(
        profiles.create({
          projectId,
          resourceType: d.resourceType,
          givenName: d.givenName,
          familyName: d.familyName,
          email: d.email ?? null,
          identifiers: d.identifiers ?? [],
        }),
      );
      const saved = await repo.save(
        repo.create({
          projectId,
          profileId: profile.id,
          issuerName: d.issuerName,
          externalId: d.externalId ?? null,
          email: d.email ?? null,
          admin: d.admin ?? false,
          active: true,
        }),
      );
      return { membership: { ...saved, profile }, created: true };
    }
    if (!options.upsert) throw MembershipsErrors.alreadyMember(byExternal ? 'externalId' : 'email');
    // The same person only: both keys must agree with what is stored, and so must the issuer.
    if (byExternal && byEmail && byExternal.id !== byEmail.id)
      throw MembershipsErrors.alreadyMember('email');
    if (d.email && existing.email && existing.email !== d.email)
      throw MembershipsErrors.alreadyMember('externalId');
    if (d.externalId && existing.externalId && existing.externalId !== d.externalId)
      throw MembershipsErrors.alreadyMember('email');
    if (d.issuerName && existing.issuerName && existing.issuerName !== d.issuerName)
      throw MembershipsErrors.boundToOtherIssuer();
    const profile = existing.profile!;
    const profilePatch: Partial<ProfileEntity> = {};
    if (profile.resourceType !== d.resourceType) profilePatch.resourceType = d.resourceType;
    if (profile.givenName !== d.givenName) profilePatch.givenName = d.givenName;
    if (profile.familyName !== d.familyName) profilePatch.familyName = d.familyName;
    if (d.email && profile.email !== d.email) profilePatch.email = d.email;
    if (d.identifiers && JSON.stringify(profile.identifiers) !== JSON.stringify(d.identifiers))
      profilePatch.identifiers = d.identifiers;
    const patch: Partial<MembershipEntity> = {};
    if (d.admin !== undefined && existing.admin !== d.admin) patch.admin = d.admin;
    if (d.email && !existing.email) patch.email = d.email;
    if (d.externalId && !existing.externalId) patch.externalId = d.externalId;
    if (d.issuerName && !existing.issuerName) patch.issuerName = d.issuerName;
    if (Object.keys(profilePatch).length > 0)
      await profiles.update({ id: profile.id }, profilePatch);
    if (Object.keys(patch).length > 0) await repo.update({ id: existing.id }, patch);
    const membership = await repo.findOneOrFail({
      where: { id: existing.id },
      relations: { profile: true },
    });
    return { membership, created: false };
  }

  async get(id: string): Promise<MembershipEntity> {
    if (!isUuid(id)) throw MembershipsErrors.invalidId();
    const m = await dbCall(() =>
      this.repo.findOne({ where: { id }, relations: { profile: true } }),
    );
    if (!m) throw MembershipsErrors.notFound();
    return m;
  }

  async setActive(
    caller: AuthenticatedCaller,
    id: string,
    active: boolean,
    from?: AuditRequest,
  ): Promise<MembershipEntity> {
    const m = await this.get(id);
    await this.assertCanManage(caller, m.projectId);
    await dbCall(() =>
      this.repo.manager.transaction(async (tx) => {
        await tx.getRepository(MembershipEntity).update({ id }, { active });
        await this.audit.record(
          tx,
          {
            action: active ? 'membership.activate' : 'membership.deactivate',
            targetType: 'membership',
            targetId: id,
            projectId: m.projectId,
          },
          from,
        );
      }),
    );
    await this.changed();
    return { ...m, active };
  }

  async remove(
    caller: AuthenticatedCaller,
    id: string,
    from?: AuditRequest,
  ): Promise<MembershipEntity> {
    const m = await this.get(id);
    await this.assertCanManage(caller, m.projectId);
    // The profile goes with it (memberships reference profiles with ON DELETE CASCADE).
    await dbCall(() =>
      this.repo.manager.transaction(async (tx) => {
        await tx.getRepository(ProfileEntity).delete({ id: m.profileId });
        await this.audit.record(
          tx,
          {
            action: 'membership.remove',
            targetType: 'membership',
            targetId: id,
            projectId: m.projectId,
          },
          from,
        );
      }),
    );
    await this.changed();
    return m;
  }

  /** Memberships (with their profiles, joined) of these projects, oldest first. */
  byProjectIds(projectIds: readonly string[]): Promise<MembershipEntity[]> {
    return this.withProfiles({ projectId: In([...projectIds]) });
  }

  /** Memberships (with their profiles) linked to these actors, oldest first. */
  byActorIds(actorIds: readonly string[]): Promise<MembershipEntity[]> {
    return this.withProfiles({ actorId: In([...actorIds]) });
  }

  private withProfiles(where: FindOptionsWhere<MembershipEntity>): Promise<MembershipEntity[]> {
    return dbCall(() =>
      this.repo.find({
        where,
        relations: { profile: true },
        order: { createdAt: 'ASC', id: 'ASC' },
      }),
    );
  }
}

export function toSnapshot(m: MembershipEntity): MembershipSnapshot {
  return {
    id: m.id,
    projectId: m.projectId,
    profileId: m.profileId,
    resourceType: m.profile!.resourceType,
    actorId: m.actorId,
    admin: m.admin,
    active: m.active,
  };
}
