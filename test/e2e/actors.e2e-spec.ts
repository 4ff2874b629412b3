import { getIntrospectionQuery } from 'graphql';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { actorIdOf, disableActor, enableActor, setActorRoles } from '../support/gql-ops';
import { JwksStub } from '../support/jwks-stub';
import { OidcIdp } from '../support/oidc-provider';
import { query } from '../support/postgres';
import { userinfo as userinfoAt } from '../support/rest-ops';

// Lazy actors (issue §3) and the admin GraphQL API (§4), over real HTTP against a real OpenID provider.
const AUD = 'bridgekeeper-actors';

interface ActorRow extends Record<string, unknown> {
  id: string;
  issuer_name: string;
  subject: string;
  email: string | null;
  name: string | null;
  status: string;
  last_seen_at: Date | null;
}

const ACTOR_FIELDS = 'id issuer subject email name roles status';

describe('actors', () => {
  let idp: OidcIdp;
  let stub: JwksStub;
  let bk: RunningBridgekeeper;
  let adminToken: string;

  beforeAll(async () => {
    [idp, stub] = await Promise.all([OidcIdp.start(), JwksStub.start()]);
    bk = await startBridgekeeper({
      issuers: [
        idp.trustedIssuer(),
        stub.trustedIssuer('partner', AUD, { provisioning: 'existing' }),
      ],
      admins: ['idp:root'],
    });
    adminToken = await idp.login('root', { email: 'root@example.com' });
  });

  afterAll(async () => {
    await bk?.close();
    await Promise.all([idp?.stop(), stub?.stop()]);
  });

  const actorRows = (issuer: string, subject: string) =>
    query<ActorRow>(
      bk.databaseUrl,
      'SELECT * FROM actors WHERE issuer_name = $1 AND subject = $2',
      [issuer, subject],
    );

  const userinfo = (token: string) => userinfoAt(bk, token);

  describe('provisioning', () => {
    it('creates one actor on the first valid token and keeps it for later tokens', async () => {
      const first = await userinfo(
        await idp.login('carol', { email: 'carol@example.com', name: 'Carol' }),
      );
      expect(first.status).toBe(200);
      const second = await userinfo(await idp.login('carol'));
      expect(second.body.sub).toBe(first.body.sub);
      const rows = await actorRows('idp', 'carol');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        id: first.body.sub,
        email: 'carol@example.com',
        name: 'Carol',
        status: 'ACTIVE',
      });
    });

    it('refreshes profile claims when they change, and keeps those a token omits', async () => {
      await userinfo(await idp.login('dave', { email: 'dave@old.example', name: 'Dave' }));
      const changed = await userinfo(await idp.login('dave', { email: 'dave@new.example' }));
      expect(changed.body).toMatchObject({ email: 'dave@new.example', name: 'Dave' });
      expect((await actorRows('idp', 'dave'))[0]).toMatchObject({
        email: 'dave@new.example',
        name: 'Dave',
      });
    });

    it('creates exactly one actor when 100 first requests for a new subject arrive at once (rule 17)', async () => {
      const tokens = await Promise.all(Array.from({ length: 100 }, () => idp.login('racer')));
      const results = await Promise.all(tokens.map(userinfo));
      expect(results.map((r) => r.status)).toEqual(Array(100).fill(200));
      expect(new Set(results.map((r) => r.body.sub)).size).toBe(1);
      expect(await actorRows('idp', 'racer')).toHaveLength(1);
    });

    it('keeps identity per (issuer, sub): the same sub at two issuers is two actors', async () => {
      await query(
        bk.databaseUrl,
        "INSERT INTO actors (issuer_name, subject) VALUES ('partner', 'shared-sub')",
      );
      const fromIdp = await userinfo(await idp.login('shared-sub'));
      const fromPartner = await userinfo(await stub.token(AUD, { sub: 'shared-sub' }));
      expect(fromIdp.status).toBe(200);
      expect(fromPartner.status).toBe(200);
      expect(fromIdp.body.sub).not.toBe(fromPartner.body.sub);
      expect(fromPartner.body).toMatchObject({ issuer: 'partner', subject: 'shared-sub' });
    });

    it('refuses unknown subjects of an issuer with provisioning=existing, creating nothing', async () => {
      const res = await bk.get('/oauth2/userinfo', await stub.token(AUD, { sub: 'stranger' }));
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(await actorRows('partner', 'stranger')).toHaveLength(0);
    });

    it('records lastSeenAt once, not on every request', async () => {
      const token = await idp.login('frequent');
      for (let i = 0; i < 5; i++) expect((await userinfo(token)).status).toBe(200);
      const rows = await actorRows('idp', 'frequent');
      const seen = rows[0].last_seen_at;
      for (let i = 0; i < 5; i++) await userinfo(await idp.login('frequent'));
      const [after] = await actorRows('idp', 'frequent');
      expect(after.last_seen_at?.toISOString()).toBe(seen?.toISOString());
    });
  });

  describe('GraphQL', () => {
    it('answers me for any valid token', async () => {
      const token = await idp.login('erin', { email: 'erin@example.com' });
      const res = await bk.graphql(`{ me { ${ACTOR_FIELDS} } }`, token);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body.data?.me).toMatchObject({
        issuer: 'idp',
        subject: 'erin',
        email: 'erin@example.com',
        roles: [],
        status: 'ACTIVE',
      });
    });

    it('gives ADMIN to bootstrap admins from configuration', async () => {
      const res = await bk.graphql('{ me { roles } }', adminToken);
      expect(res.body.data?.me).toEqual({ roles: ['ADMIN'] });
    });

    it.each([
      ['actor', '{ actor(id: "00000000-0000-0000-0000-000000000000") { id } }'],
      ['actors', '{ actors { totalCount } }'],
      [
        'disableActor',
        'mutation { disableActor(id: "00000000-0000-0000-0000-000000000000") { id } }',
      ],
      [
        'enableActor',
        'mutation { enableActor(id: "00000000-0000-0000-0000-000000000000") { id } }',
      ],
      [
        'setActorRoles',
        'mutation { setActorRoles(id: "00000000-0000-0000-0000-000000000000", roles: ["ADMIN"]) { id } }',
      ],
    ])('refuses %s to a caller without ADMIN (FORBIDDEN)', async (_name, op) => {
      const res = await bk.graphql(op, await idp.login('erin'));
      expect(res.status).toBe(200);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      // No data leaks: either no data at all or the (nullable) field is null.
      expect(Object.values(res.body.data ?? {}).every((v) => v === null)).toBe(true);
    });

    it('answers 401 over HTTP for a missing token, like REST', async () => {
      const res = await bk.graphql('{ me { id } }');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('finds an actor by id, and null for an unknown id; a malformed id is a client error', async () => {
      const me = await userinfo(await idp.login('frank'));
      const found = await bk.graphql(`{ actor(id: "${me.body.sub}") { subject } }`, adminToken);
      expect(found.body.data).toEqual({ actor: { subject: 'frank' } });
      const missing = await bk.graphql(
        '{ actor(id: "00000000-0000-0000-0000-000000000000") { id } }',
        adminToken,
      );
      expect(missing.body).toEqual({ data: { actor: null } });
      const bad = await bk.graphql('{ actor(id: "../etc/passwd") { id } }', adminToken);
      expect(bad.status).toBeLessThan(500);
      expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('pages through every actor exactly once with cursors, and filters', async () => {
      const subjects = Array.from({ length: 25 }, (_, i) => `page-${String(i).padStart(2, '0')}`);
      for (const s of subjects)
        await userinfo(await idp.login(s, { email: `${s}@paging.example` }));
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const res = await bk.graphql(
          'query($after: String) { actors(first: 7, after: $after, filter: { search: "@paging.example" }) { totalCount edges { cursor node { subject } } pageInfo { hasNextPage endCursor } } }',
          adminToken,
          { after },
        );
        const page = res.body.data?.actors as {
          totalCount: number;
          edges: { node: { subject: string } }[];
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
        };
        expect(page.totalCount).toBe(25);
        seen.push(...page.edges.map((e) => e.node.subject));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen).toEqual(subjects);

      const byIssuer = await bk.graphql(
        '{ actors(filter: { issuer: "partner" }) { edges { node { issuer } } } }',
        adminToken,
      );
      const issuers = (
        byIssuer.body.data?.actors as { edges: { node: { issuer: string } }[] }
      ).edges.map((e) => e.node.issuer);
      expect(issuers.length).toBeGreaterThan(0);
      expect(new Set(issuers)).toEqual(new Set(['partner']));
    });

    it('treats % and _ in search literally', async () => {
      await userinfo(await idp.login('percent', { email: '100%_sure@example.com' }));
      const literal = await bk.graphql(
        '{ actors(filter: { search: "100%_s" }) { totalCount } }',
        adminToken,
      );
      expect(literal.body.data).toEqual({ actors: { totalCount: 1 } });
      const wildcard = await bk.graphql(
        '{ actors(filter: { search: "%" }) { totalCount } }',
        adminToken,
      );
      expect(wildcard.body.data).toEqual({ actors: { totalCount: 1 } });
    });

    it('refuses a page size over 100 and a forged cursor as client errors', async () => {
      const big = await bk.graphql('{ actors(first: 101) { totalCount } }', adminToken);
      expect(big.status).toBeLessThan(500);
      expect(big.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const forged = await bk.graphql(
        '{ actors(after: "not-a-cursor") { totalCount } }',
        adminToken,
      );
      expect(forged.status).toBeLessThan(500);
      expect(forged.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('disables an actor: 401 from the next request on (REST and GraphQL); enabling restores it', async () => {
      const token = await idp.login('grace');
      const before = await userinfo(token);
      expect(before.status).toBe(200);
      const id = before.body.sub as string;
      expect((await disableActor(bk, adminToken, id)).status).toBe('DISABLED');
      const rest = await bk.get('/oauth2/userinfo', token);
      expect(rest.status).toBe(401);
      expect(rest.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect((await bk.graphql('{ me { id } }', token)).status).toBe(401);
      // A brand-new token of the same person is refused too.
      expect((await userinfo(await idp.login('grace'))).status).toBe(401);
      expect((await enableActor(bk, adminToken, id)).status).toBe('ACTIVE');
      expect((await userinfo(token)).status).toBe(200);
    });

    it('does not let an admin disable itself', async () => {
      const id = await actorIdOf(bk, adminToken);
      const res = await bk.graphql(`mutation { disableActor(id: "${id}") { id } }`, adminToken);
      expect(res.body.errors?.[0]?.extensions?.code).toBeDefined();
      expect((await userinfo(adminToken)).status).toBe(200);
    });

    it('applies setActorRoles on the next request', async () => {
      const token = await idp.login('heidi');
      const before = await userinfo(token);
      expect(before.body.roles).toEqual([]);
      const set = await setActorRoles(bk, adminToken, before.body.sub as string, [
        'AUDITOR',
        'ADMIN',
      ]);
      expect(set.roles).toEqual(['ADMIN', 'AUDITOR']);
      expect((await userinfo(token)).body.roles).toEqual(['ADMIN', 'AUDITOR']);
      // And the new admin can now use admin operations.
      expect((await bk.graphql('{ actors { totalCount } }', token)).body.errors).toBeUndefined();
    });

    it('enforces depth and complexity limits with client errors', async () => {
      const shallow = await bk.graphql(
        '{ actors { edges { node { id } } pageInfo { endCursor } } me { id } }',
        adminToken,
      );
      expect(shallow.body.errors).toBeUndefined();
      const deep = await bk.graphql(
        `{ __schema { types { fields { type { ${'ofType { '.repeat(14)} name ${'} '.repeat(14)} } } } } }`,
        adminToken,
      );
      expect(deep.status).toBeLessThan(500);
      expect(deep.body.errors?.[0]?.message).toMatch(/depth/i);
      expect(deep.body.data ?? null).toBeNull();
      // The standard introspection query that tools send stays allowed.
      const standard = await bk.graphql(getIntrospectionQuery(), adminToken);
      expect(standard.body.errors).toBeUndefined();
      const tooComplex = await bk.graphql(
        '{ a: actors(first: 100) { edges { node { id email name roles } } } b: actors(first: 100) { edges { node { id email name roles } } } c: actors(first: 100) { edges { node { id email name roles } } } }',
        adminToken,
      );
      expect(tooComplex.status).toBeLessThan(500);
      expect(tooComplex.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
      const fragmentBomb = `fragment F on Actor { id }
        query { actors { edges { node { ...F } } } }`;
      expect((await bk.graphql(fragmentBomb, adminToken)).body.errors).toBeUndefined();
    });
  });
});
