import { ActorsService } from 'src/actors/actors.service';
import { MembershipsService } from 'src/memberships/memberships.service';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { type RedisServer, startRedis } from '../support/redis';
import { JwksStub } from '../support/jwks-stub';
import { OidcIdp } from '../support/oidc-provider';
import { query } from '../support/postgres';

// Issue 3: admins invite members ahead of their first sign-in; a caller's token resolves to their
// membership by fhirUser or by sub = externalId, bound to the token's issuer (SECURITY rules 5 and 6).
const AUD = 'bridgekeeper-members';
const FHIR_BASE = 'https://fhir.example.com/r4';

interface Membership {
  id: string;
  projectId: string;
  actorId: string | null;
  externalId: string | null;
  issuer: string | null;
  email: string | null;
  admin: boolean;
  active: boolean;
  inviteEmailSent?: boolean;
  profile: { id: string; reference: string; givenName: string; familyName: string };
}

describe.each(['memory', 'redis'] as const)(
  'projects, invites and membership resolution (%s cache)',
  (cacheKind) => {
    let redis: RedisServer | undefined;
    let idp: OidcIdp;
    let partner: JwksStub;
    let bk: RunningBridgekeeper;
    let admin: string;

    beforeAll(async () => {
      redis = cacheKind === 'redis' ? await startRedis() : undefined;
      [idp, partner] = await Promise.all([OidcIdp.start(), JwksStub.start()]);
      bk = await startBridgekeeper({
        issuers: [
          { name: 'idp', issuer: idp.issuer, jwks: idp.jwksUrl, audiences: idp.audience },
          {
            name: 'partner',
            issuer: partner.issuer,
            jwks: partner.jwksUrl,
            audiences: AUD,
            fhirBase: FHIR_BASE,
          },
        ],
        admins: ['idp:root'],
        redisUrl: redis?.url,
      });
      admin = await idp.login('root');
    });

    afterAll(async () => {
      await bk?.close();
      await Promise.all([idp?.stop(), partner?.stop()]);
      await redis?.stop();
    });

    async function createProject(name: string, token = admin): Promise<string> {
      const res = await bk.graphql(
        'mutation($n: String!) { createProject(name: $n) { id name } }',
        token,
        { n: name },
      );
      expect(res.body.errors).toBeUndefined();
      return (res.body.data?.createProject as { id: string }).id;
    }

    async function invite(projectId: string, body: Record<string, unknown>, token = admin) {
      const res = await bk.post(`/admin/projects/${projectId}/invite`, body, token);
      return {
        status: res.status,
        body: (await res.json()) as Membership & { error?: string; error_description?: string },
      };
    }

    async function userinfo(token: string, project?: string) {
      const res = await bk.get(
        '/oauth2/userinfo',
        token,
        project ? { 'x-bridgekeeper-project': project } : {},
      );
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    }

    const jane = { resourceType: 'Practitioner', firstName: 'Jane', lastName: 'Smith' };

    it('lets an invited member arrive with her IdP token and see her project, then needs the project header once she is in two', async () => {
      const p1 = await createProject('Clinic A');
      const invited = await invite(p1, {
        ...jane,
        externalId: 'jane-sub',
        issuer: 'idp',
        sendEmail: true,
      });
      expect(invited.status).toBe(201);
      expect(invited.body).toMatchObject({
        projectId: p1,
        externalId: 'jane-sub',
        issuer: 'idp',
        actorId: null,
        active: true,
        admin: false,
        inviteEmailSent: false,
        profile: { givenName: 'Jane', familyName: 'Smith' },
      });
      expect(invited.body.profile.reference).toBe(`Practitioner/${invited.body.profile.id}`);

      const token = await idp.login('jane-sub', { email: 'jane@example.com' });
      const first = await userinfo(token);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        subject: 'jane-sub',
        project: p1,
        membership: invited.body.id,
        profile: invited.body.profile.reference,
      });
      // Linked on first match: both directions are queryable.
      const [row] = await query<{ actor_id: string }>(
        bk.databaseUrl,
        'SELECT actor_id FROM project_memberships WHERE id = $1',
        [invited.body.id],
      );
      expect(row.actor_id).toBe(first.body.sub);

      const p2 = await createProject('Clinic B');
      const second = await invite(p2, { ...jane, externalId: 'jane-sub', issuer: 'idp' });
      expect(second.status).toBe(201);
      const ambiguous = await bk.get('/oauth2/userinfo', token);
      expect(ambiguous.status).toBe(401);
      expect(ambiguous.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect((await userinfo(token, p1)).body).toMatchObject({
        project: p1,
        membership: invited.body.id,
      });
      expect((await userinfo(token, p2)).body).toMatchObject({
        project: p2,
        membership: second.body.id,
      });
      // Issue 12 bug 7: a valid token is told it is not in the named project (403, not 401).
      expect((await userinfo(token, '00000000-0000-0000-0000-000000000000')).status).toBe(403);
      expect((await userinfo(token, 'not-a-uuid')).status).toBe(400);
    });

    it('resolves callers without any membership to their actor alone', async () => {
      const res = await userinfo(await idp.login('nobody'));
      expect(res.status).toBe(200);
      expect(res.body.project).toBeUndefined();
      expect(res.body.membership).toBeUndefined();
    });

    it('lists projects with their members, profiles and linked actors, and each actor its memberships', async () => {
      const p = await createProject('Listed');
      const m = (
        await invite(p, {
          ...jane,
          firstName: 'Lou',
          externalId: 'lou-sub',
          issuer: 'idp',
          admin: true,
        })
      ).body;
      await invite(p, { ...jane, firstName: 'Mo', email: 'mo@example.com' });
      const lou = await idp.login('lou-sub');
      expect((await userinfo(lou)).status).toBe(200);

      const q = `{ project(id: "${p}") { name memberships { admin email profile { givenName reference } actor { subject issuer } } } }`;
      const res = await bk.graphql(q, admin);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.project).toEqual({
        name: 'Listed',
        memberships: [
          {
            admin: true,
            email: null,
            profile: { givenName: 'Lou', reference: m.profile.reference },
            actor: { subject: 'lou-sub', issuer: 'idp' },
          },
          {
            admin: false,
            email: 'mo@example.com',
            profile: { givenName: 'Mo', reference: expect.stringMatching(/^Practitioner\//) },
            actor: null,
          },
        ],
      });
      // A project admin sees that project (and only the projects they administer); others see none.
      const mine = await bk.graphql('{ projects { id } }', lou);
      expect(mine.body.data).toEqual({ projects: [{ id: p }] });
      expect(
        (await bk.graphql('{ projects { id } }', await idp.login('stranger'))).body.data,
      ).toEqual({ projects: [] });
      expect(
        (await bk.graphql(`{ project(id: "${p}") { id } }`, await idp.login('stranger'))).body
          .errors?.[0]?.extensions?.code,
      ).toBe('FORBIDDEN');
      const all = await bk.graphql('{ projects { id } }', admin);
      expect((all.body.data?.projects as { id: string }[]).map((x) => x.id)).toContain(p);
      // The other direction: the actor's memberships.
      const me = await bk.graphql('{ me { memberships { id projectId } } }', lou);
      expect(me.body.data).toEqual({ me: { memberships: [{ id: m.id, projectId: p }] } });
    });

    it('loads memberships and actors of many projects in one batch each (no N+1)', async () => {
      const ids = await Promise.all(['N1', 'N2', 'N3', 'N4'].map((n) => createProject(n)));
      for (const [i, p] of ids.entries()) {
        await invite(p, { ...jane, firstName: `N${i}`, externalId: `n-${i}`, issuer: 'idp' });
        expect((await userinfo(await idp.login(`n-${i}`))).status).toBe(200);
      }
      const memberships = bk.app.get(MembershipsService);
      const actors = bk.app.get(ActorsService);
      const byProject = jest.spyOn(memberships, 'byProjectIds');
      const byActor = jest.spyOn(actors, 'findByIds');
      try {
        const res = await bk.graphql(
          '{ projects { name memberships { actor { subject } } } }',
          admin,
        );
        expect(res.body.errors).toBeUndefined();
        const listed = (
          res.body.data?.projects as {
            name: string;
            memberships: { actor: { subject: string } | null }[];
          }[]
        ).filter((p) => /^N\d$/.test(p.name));
        expect(listed.map((p) => p.memberships[0].actor?.subject).sort()).toEqual([
          'n-0',
          'n-1',
          'n-2',
          'n-3',
        ]);
        expect(byProject).toHaveBeenCalledTimes(1);
        expect(byActor).toHaveBeenCalledTimes(1);
      } finally {
        byProject.mockRestore();
        byActor.mockRestore();
      }
    });

    describe('fhirUser (rule 6)', () => {
      let project: string;
      let member: Membership;
      let other: Membership;

      beforeAll(async () => {
        project = await createProject('FHIR clinic');
        member = (
          await invite(project, {
            ...jane,
            firstName: 'Ann',
            externalId: 'ann-sub',
            issuer: 'partner',
            identifiers: [
              { system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567890' },
              { value: 'local-7' },
            ],
          })
        ).body;
        other = (
          await invite(project, {
            ...jane,
            firstName: 'Bob',
            externalId: 'bob-sub',
            issuer: 'partner',
          })
        ).body;
      });

      const tokenWith = (claims: Record<string, unknown>) =>
        partner.token(AUD, { sub: 'unrelated-sub', ...claims });

      it.each([
        ['a relative reference', () => member.profile.reference],
        [
          'an absolute reference under the FHIR base',
          () => `${FHIR_BASE}/${member.profile.reference}`,
        ],
        [
          'an identifier search with system',
          () => 'Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1234567890',
        ],
        ['an identifier search without system', () => 'Practitioner?identifier=local-7'],
      ])('resolves %s', async (_name, fhirUser) => {
        const res = await userinfo(await tokenWith({ fhirUser: fhirUser() }));
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({
          membership: member.id,
          profile: member.profile.reference,
        });
      });

      it('reads ext.fhirUser', async () => {
        const res = await userinfo(
          await tokenWith({ ext: { fhirUser: member.profile.reference } }),
        );
        expect(res.body).toMatchObject({ membership: member.id });
      });

      it('takes fhirUser over sub when both name the same member', async () => {
        const dee = (
          await invite(project, {
            ...jane,
            firstName: 'Dee',
            externalId: 'dee-sub',
            issuer: 'partner',
          })
        ).body;
        const res = await userinfo(
          await partner.token(AUD, { sub: 'dee-sub', fhirUser: dee.profile.reference }),
        );
        expect(res.body).toMatchObject({ membership: dee.id });
      });

      it('resolves a well-formed fhirUser that matches nobody to the actor alone', async () => {
        const res = await userinfo(
          await tokenWith({ sub: 'patient-x', fhirUser: `Patient/${member.profile.id}` }),
        );
        expect(res.status).toBe(200);
        expect(res.body.membership).toBeUndefined();
      });

      it('refuses a second identity once the membership is linked to the first', async () => {
        // Ann's membership was linked to the actor of `unrelated-sub` by the first fhirUser match.
        const res = await userinfo(
          await partner.token(AUD, { sub: 'ann-sub', fhirUser: member.profile.reference }),
        );
        expect(res.status).toBe(401);
      });

      it.each([
        ['another FHIR base', () => `https://evil.example.com/r4/${member.profile.reference}`],
        ['_history', () => `${member.profile.reference}/_history/1`],
        ['an unknown resource type', () => `Organization/${member.profile.id}`],
        ['an encoded slash', () => `Practitioner%2F${member.profile.id}`],
        ['a non-string claim', () => 42],
      ])('refuses %s with 401', async (_name, fhirUser) => {
        expect((await userinfo(await tokenWith({ fhirUser: fhirUser() }))).status).toBe(401);
      });

      it('refuses a fhirUser and a sub that point at different members', async () => {
        const res = await userinfo(
          await partner.token(AUD, { sub: 'bob-sub', fhirUser: member.profile.reference }),
        );
        expect(res.status).toBe(401);
      });

      it("never lets one issuer's token claim another issuer's member", async () => {
        // The real IdP asserts a fhirUser of a member bound to the partner issuer: no membership matches.
        const res = await userinfo(
          await idp.login('idp-user', { fhirUser: member.profile.reference }),
        );
        expect(res.status).toBe(200);
        expect(res.body.membership).toBeUndefined();
      });

      it('resolves fhirUser from the real OpenID provider for its own members', async () => {
        const idpProject = await createProject('IdP FHIR');
        const m = (
          await invite(idpProject, {
            ...jane,
            firstName: 'Cy',
            externalId: 'cy-sub',
            issuer: 'idp',
          })
        ).body;
        const res = await userinfo(
          await idp.login('cy-other-sub', { ext_fhirUser: m.profile.reference }),
        );
        expect(res.body).toMatchObject({ membership: m.id, project: idpProject });
      });

      it('refuses an inactive membership, from the next request on', async () => {
        const token = await partner.token(AUD, { sub: 'bob-sub' });
        expect((await userinfo(token)).body).toMatchObject({ membership: other.id });
        const off = await bk.graphql(
          `mutation { setMembershipActive(id: "${other.id}", active: false) { active } }`,
          admin,
        );
        expect(off.body.data).toEqual({ setMembershipActive: { active: false } });
        expect((await userinfo(token)).status).toBe(401);
        await bk.graphql(
          `mutation { setMembershipActive(id: "${other.id}", active: true) { active } }`,
          admin,
        );
        expect((await userinfo(token)).status).toBe(200);
      });
    });

    describe('invites', () => {
      let project: string;
      beforeAll(async () => {
        project = await createProject('Invites');
      });

      it.each([
        ['neither email nor externalId', { ...jane }, /email or externalId/],
        [
          'a bad resource type',
          { ...jane, resourceType: 'Organization', email: 'x@example.com' },
          /resourceType/,
        ],
        ['a bad email', { ...jane, email: 'not-an-email' }, /email/],
        ['an empty first name', { ...jane, firstName: '', email: 'y@example.com' }, /firstName/],
        ['an unknown issuer', { ...jane, externalId: 'x', issuer: 'nope' }, /issuer/],
        [
          'externalId without issuer while two are trusted',
          { ...jane, externalId: 'x' },
          /issuer is required/,
        ],
        ['an unknown field', { ...jane, email: 'z@example.com', role: 'god' }, /role/],
      ])('answers 400 naming the field for %s', async (_name, body, message) => {
        const res = await invite(project, body);
        expect(res.status).toBe(400);
        expect(res.body.error_description).toMatch(message);
      });

      it('answers 401 without a token, 403 to a non-admin, 404 for an unknown project (server admin)', async () => {
        expect(
          (await bk.post(`/admin/projects/${project}/invite`, { ...jane, email: 'a@b.co' })).status,
        ).toBe(401);
        expect(
          (await invite(project, { ...jane, email: 'a@b.co' }, await idp.login('random-user')))
            .status,
        ).toBe(403);
        expect(
          (await invite('00000000-0000-0000-0000-000000000000', { ...jane, email: 'a@b.co' }))
            .status,
        ).toBe(404);
        expect((await invite('not-a-uuid', { ...jane, email: 'a@b.co' })).status).toBe(400);
      });

      it('lets a project admin invite into that project only (the project in the URL is checked)', async () => {
        const other = await createProject('Not yours');
        await invite(project, {
          ...jane,
          firstName: 'Pat',
          externalId: 'pat-sub',
          issuer: 'idp',
          admin: true,
        });
        const pat = await idp.login('pat-sub');
        expect((await userinfo(pat)).status).toBe(200); // links Pat's actor to the admin membership
        expect((await invite(project, { ...jane, email: 'new1@example.com' }, pat)).status).toBe(
          201,
        );
        expect((await invite(other, { ...jane, email: 'new2@example.com' }, pat)).status).toBe(403);
        expect(
          (await bk.graphql('mutation { createProject(name: "x") { id } }', pat)).body.errors?.[0]
            ?.extensions?.code,
        ).toBe('FORBIDDEN');
      });

      it('answers 409 for a duplicate externalId or email, and upserts the same person', async () => {
        const created = await invite(project, {
          ...jane,
          externalId: 'dup-sub',
          issuer: 'idp',
          email: 'dup@example.com',
        });
        expect(created.status).toBe(201);
        expect(
          (await invite(project, { ...jane, externalId: 'dup-sub', issuer: 'idp' })).status,
        ).toBe(409);
        expect((await invite(project, { ...jane, email: 'DUP@example.com' })).status).toBe(409);
        const same = await invite(project, {
          ...jane,
          externalId: 'dup-sub',
          issuer: 'idp',
          upsert: true,
        });
        expect(same.status).toBe(200);
        expect(same.body.id).toBe(created.body.id);
        const renamed = await invite(project, {
          ...jane,
          lastName: 'Jones',
          email: 'dup@example.com',
          upsert: true,
        });
        expect(renamed.status).toBe(200);
        expect(renamed.body.profile.familyName).toBe('Jones');
        // Not the same person: this email belongs to the member with externalId dup-sub.
        expect(
          (
            await invite(project, {
              ...jane,
              externalId: 'someone-else',
              issuer: 'idp',
              email: 'dup@example.com',
              upsert: true,
            })
          ).status,
        ).toBe(409);
      });

      it('accepts exactly one of 50 concurrent invites of the same externalId, leaving no orphan profile', async () => {
        const race = await createProject('Race');
        const results = await Promise.all(
          Array.from({ length: 50 }, () =>
            invite(race, { ...jane, externalId: 'racer-sub', issuer: 'idp' }),
          ),
        );
        const statuses = results.map((r) => r.status).sort();
        expect(statuses.filter((s) => s === 201)).toHaveLength(1);
        expect(statuses.filter((s) => s === 409)).toHaveLength(49);
        const [counts] = await query<{ profiles: string; memberships: string }>(
          bk.databaseUrl,
          'SELECT (SELECT count(*) FROM profiles WHERE project_id = $1) AS profiles, (SELECT count(*) FROM project_memberships WHERE project_id = $1) AS memberships',
          [race],
        );
        expect(counts).toEqual({ profiles: '1', memberships: '1' });
      });

      it('offers the same invite through GraphQL', async () => {
        const res = await bk.graphql(
          'mutation($p: ID!, $i: InviteInput!) { inviteMember(projectId: $p, input: $i) { id externalId issuer profile { reference givenName } } }',
          admin,
          {
            p: project,
            i: {
              resourceType: 'Patient',
              firstName: 'Gail',
              lastName: 'Q',
              externalId: 'gail-sub',
              issuer: 'idp',
            },
          },
        );
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data?.inviteMember).toMatchObject({
          externalId: 'gail-sub',
          issuer: 'idp',
          profile: { givenName: 'Gail' },
        });
        const dup = await bk.graphql(
          'mutation($p: ID!, $i: InviteInput!) { inviteMember(projectId: $p, input: $i) { id } }',
          admin,
          {
            p: project,
            i: {
              resourceType: 'Patient',
              firstName: 'Gail',
              lastName: 'Q',
              externalId: 'gail-sub',
              issuer: 'idp',
            },
          },
        );
        expect(dup.body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      });

      it('removes a membership and its profile', async () => {
        const m = (await invite(project, { ...jane, email: 'gone@example.com' })).body;
        const res = await bk.graphql(`mutation { removeMembership(id: "${m.id}") { id } }`, admin);
        expect(res.body.data).toEqual({ removeMembership: { id: m.id } });
        const rows = await query(bk.databaseUrl, 'SELECT id FROM profiles WHERE id = $1', [
          m.profile.id,
        ]);
        expect(rows).toHaveLength(0);
      });
    });
  },
);
