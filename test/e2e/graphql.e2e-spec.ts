import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { disableActor, enableActor, setActorRoles } from '../support/gql-ops';
import { JwksStub } from '../support/jwks-stub';
import { query } from '../support/postgres';
import { userinfo } from '../support/rest-ops';

// The GraphQL API over real HTTP (SECURITY.md rule 16): authentication as on REST, ADMIN for the actor
// administration, configured depth and complexity limits, cursor pagination, filters, and client errors
// (never a 500) for bad input.
// Real servers and several app instances start here: more than jest's 5 s default (the config's
// testTimeout is not a project option, so it does not apply).
jest.setTimeout(60_000);
const AUD = 'bk-graphql';
const OTHER_AUD = 'bk-graphql-other';
const MAX_DEPTH = 5;
const MAX_COMPLEXITY = 300;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

interface Page {
  totalCount: number;
  edges: { cursor: string; node: { id: string; subject: string; createdAt: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

describe('GraphQL API', () => {
  let stub: JwksStub;
  let other: JwksStub;
  let bk: RunningBridgekeeper;
  let adminToken: string;

  beforeAll(async () => {
    [stub, other] = await Promise.all([JwksStub.start(), JwksStub.start()]);
    bk = await startBridgekeeper({
      issuers: [stub.trustedIssuer('stub', AUD), other.trustedIssuer('other', OTHER_AUD)],
      admins: ['stub:admin'],
      properties: {
        'bridgekeeper.graphql.max.depth': String(MAX_DEPTH),
        'bridgekeeper.graphql.max.complexity': String(MAX_COMPLEXITY),
      },
    });
    adminToken = await stub.token(AUD, { sub: 'admin' });
  });

  afterAll(async () => {
    try {
      expect(bk?.logs.join('\n') ?? '').not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
    } finally {
      await bk?.close();
      await Promise.all([stub?.stop(), other?.stop()]);
    }
  });

  const userToken = (sub: string, claims: Record<string, unknown> = {}) =>
    stub.token(AUD, { sub, ...claims });

  /** The actor of a token, provisioned by its first request. */
  async function actorId(token: string): Promise<string> {
    const res = await userinfo<{ sub: string }>(bk, token);
    expect(res.status).toBe(200);
    return res.body.sub;
  }

  /** A GraphQL answer that is a client error: HTTP < 500, no data, and the given `extensions.code`. */
  function expectClientError(
    res: Awaited<ReturnType<RunningBridgekeeper['graphql']>>,
    code: string,
  ): void {
    expect(res.status).toBeLessThan(500);
    expect(res.body.errors?.length).toBeGreaterThan(0);
    expect(res.body.errors?.[0]?.extensions?.code).toBe(code);
    expect(JSON.stringify(res.body)).not.toContain('INTERNAL_SERVER_ERROR');
    expect(Object.values(res.body.data ?? {}).every((v) => v === null)).toBe(true);
  }

  describe('authentication', () => {
    it('answers me for any valid token, of any trusted issuer', async () => {
      const res = await bk.graphql(
        '{ me { id issuer subject email roles status } }',
        await userToken('nina', { email: 'nina@example.com' }),
      );
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.me).toMatchObject({
        issuer: 'stub',
        subject: 'nina',
        email: 'nina@example.com',
        roles: [],
        status: 'ACTIVE',
      });
      const fromOther = await bk.graphql(
        '{ me { issuer subject } }',
        await other.token(OTHER_AUD, { sub: 'nina' }),
      );
      expect(fromOther.body.data?.me).toEqual({ issuer: 'other', subject: 'nina' });
      const admin = await bk.graphql('{ me { roles } }', adminToken);
      expect(admin.body.data?.me).toEqual({ roles: ['ADMIN'] });
    });

    it('answers HTTP 401 with WWW-Authenticate: Bearer when the token is missing', async () => {
      const res = await bk.graphql('{ me { id } }');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.body.data ?? null).toBeNull();
      // Another scheme is no bearer token either.
      const basic = await fetch(`${bk.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Basic YTpi' },
        body: JSON.stringify({ query: '{ me { id } }' }),
      });
      expect(basic.status).toBe(401);
      expect(basic.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('answers HTTP 401 Bearer error="invalid_token" for every kind of invalid token', async () => {
      const now = Math.floor(Date.now() / 1000);
      const stranger = await JwksStub.start();
      try {
        const invalid = [
          'not-a-jwt',
          `${adminToken.slice(0, -4)}AAAA`, // signature tampered
          await stub.token(AUD, { sub: 'admin', iat: now - 7200, exp: now - 3600 }), // expired
          await stub.token('someone-else', { sub: 'admin' }), // wrong audience
          await stranger.token(AUD, { sub: 'admin' }), // untrusted issuer
          await stub.token(AUD, { sub: 'admin', iss: other.issuer }), // key of another issuer
        ];
        for (const token of invalid) {
          const res = await bk.graphql('{ me { id roles } }', token);
          expect(res.status).toBe(401);
          expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
          expect(res.body.data ?? null).toBeNull();
          expect(JSON.stringify(res.body)).not.toContain(token);
        }
      } finally {
        await stranger.stop();
      }
    });

    it('refuses introspection to anonymous callers (POST and GET), allows it to authenticated ones', async () => {
      const introspection = '{ __schema { queryType { name } types { name } } }';
      const post = await bk.graphql(introspection);
      expect(post.status).toBe(401);
      expect(JSON.stringify(post.body)).not.toContain('Actor');
      const get = await fetch(`${bk.url}/graphql?query=${encodeURIComponent(introspection)}`, {
        headers: { 'apollo-require-preflight': 'true' },
      });
      expect(get.status).toBe(401);
      expect(await get.text()).not.toContain('Actor');
      const typename = await bk.graphql('{ __typename }');
      expect(typename.status).toBe(401);
      const bad = await bk.graphql(introspection, 'garbage.token.here');
      expect(bad.status).toBe(401);

      const authed = await bk.graphql(introspection, await userToken('nina'));
      expect(authed.status).toBe(200);
      expect(authed.body.errors).toBeUndefined();
    });
  });

  describe('ADMIN role', () => {
    const ops: [string, (id: string) => string][] = [
      ['actor', (id) => `{ actor(id: "${id}") { id email } }`],
      ['actors', () => '{ actors { totalCount edges { node { id } } } }'],
      ['disableActor', (id) => `mutation { disableActor(id: "${id}") { id } }`],
      ['enableActor', (id) => `mutation { enableActor(id: "${id}") { id } }`],
      ['setActorRoles', (id) => `mutation { setActorRoles(id: "${id}", roles: ["ADMIN"]) { id } }`],
    ];

    it.each(ops)(
      'refuses %s to a caller without ADMIN with FORBIDDEN, changing nothing',
      async (_, op) => {
        const victim = await actorId(await userToken('victim', { email: 'victim@example.com' }));
        const token = await userToken('plain-user');
        const res = await bk.graphql(op(victim), token);
        expectClientError(res, 'FORBIDDEN');
        expect(JSON.stringify(res.body)).not.toContain('victim@example.com');
        const [row] = await query<{ status: string; roles: string[] }>(
          bk.databaseUrl,
          'SELECT status, roles FROM actors WHERE id = $1',
          [victim],
        );
        expect(row).toEqual({ status: 'ACTIVE', roles: [] });
        // The caller is still not an admin afterwards.
        expect((await bk.graphql('{ me { roles } }', token)).body.data?.me).toEqual({ roles: [] });
      },
    );

    it.each(ops)('allows %s to an admin', async (_, op) => {
      const target = await actorId(await userToken('target'));
      const res = await bk.graphql(op(target), adminToken);
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      await bk.graphql(
        `mutation { setActorRoles(id: "${target}", roles: []) { id } enableActor(id: "${target}") { id } }`,
        adminToken,
      );
    });

    it('does not let an admin disable itself, however its id is spelled', async () => {
      const me = (await bk.graphql('{ me { id } }', adminToken)).body.data?.me as { id: string };
      for (const spelling of [me.id, me.id.toUpperCase()]) {
        const res = await bk.graphql(
          `mutation { disableActor(id: "${spelling}") { status } }`,
          adminToken,
        );
        expectClientError(res, 'BAD_USER_INPUT');
        expect(res.body.errors?.[0]?.extensions?.errorCode).toBe('CANNOT_DISABLE_SELF');
      }
      const [row] = await query<{ status: string }>(
        bk.databaseUrl,
        'SELECT status FROM actors WHERE id = $1',
        [me.id],
      );
      expect(row.status).toBe('ACTIVE');
      expect((await bk.get('/oauth2/userinfo', adminToken)).status).toBe(200);
    });

    it('applies setActorRoles on the next request, both granting and revoking ADMIN', async () => {
      const token = await userToken('promoted');
      const id = await actorId(token);
      expect(
        (await bk.graphql('{ actors { totalCount } }', token)).body.errors?.[0]?.extensions?.code,
      ).toBe('FORBIDDEN');

      const set = await setActorRoles(bk, adminToken, id, ['AUDITOR', 'ADMIN', 'AUDITOR']);
      expect(set.roles).toEqual(['ADMIN', 'AUDITOR']);
      expect((await userinfo(bk, token)).body.roles).toEqual(['ADMIN', 'AUDITOR']);
      const asAdmin = await bk.graphql('{ actors { totalCount } }', token);
      expect(asAdmin.body.errors).toBeUndefined();

      await setActorRoles(bk, adminToken, id, []);
      expect((await userinfo(bk, token)).body.roles).toEqual([]);
      expectClientError(await bk.graphql('{ actors { totalCount } }', token), 'FORBIDDEN');
    });

    it('keeps configured admins ADMIN whatever roles are stored', async () => {
      await setActorRoles(bk, adminToken, await actorId(adminToken), []);
      expect((await bk.graphql('{ me { roles } }', adminToken)).body.data?.me).toEqual({
        roles: ['ADMIN'],
      });
    });
  });

  describe('bad input is a client error, never a 500', () => {
    it.each([
      ['actor, not a UUID', '{ actor(id: "42") { id } }'],
      ['actor, path-like', '{ actor(id: "../../etc/passwd") { id } }'],
      ['actor, SQL-like', `{ actor(id: "${NIL_UUID}' OR '1'='1") { id } }`],
      ['disableActor', 'mutation { disableActor(id: "not-a-uuid") { id } }'],
      ['enableActor', 'mutation { enableActor(id: "") { id } }'],
      ['setActorRoles id', 'mutation { setActorRoles(id: "123", roles: []) { id } }'],
      [
        'setActorRoles role',
        `mutation { setActorRoles(id: "${NIL_UUID}", roles: ["admin; DROP TABLE actors"]) { id } }`,
      ],
      ['actors first: 0', '{ actors(first: 0) { totalCount } }'],
      ['actors first: 101', '{ actors(first: 101) { totalCount } }'],
      ['actors after: garbage', '{ actors(after: "%%%") { totalCount } }'],
      [
        'actors after: non-UUID id',
        `{ actors(after: "${Buffer.from('1|x').toString('base64url')}") { totalCount } }`,
      ],
      [
        'actors after: timestamp out of bigint range',
        `{ actors(after: "${Buffer.from(`99999999999999999999|${NIL_UUID}`).toString('base64url')}") { totalCount } }`,
      ],
      [
        'actors after: timestamp out of the date range',
        `{ actors(after: "${Buffer.from(`9223372036854775807|${NIL_UUID}`).toString('base64url')}") { totalCount } }`,
      ],
    ])('%s → BAD_USER_INPUT', async (_, op) => {
      expectClientError(await bk.graphql(op, adminToken), 'BAD_USER_INPUT');
    });

    it('answers null for an unknown actor id, and NOT_FOUND when changing one', async () => {
      const found = await bk.graphql(`{ actor(id: "${NIL_UUID}") { id } }`, adminToken);
      expect(found.body).toEqual({ data: { actor: null } });
      for (const m of ['disableActor', 'enableActor']) {
        expectClientError(
          await bk.graphql(`mutation { ${m}(id: "${NIL_UUID}") { id } }`, adminToken),
          'NOT_FOUND',
        );
      }
      expectClientError(
        await bk.graphql(
          `mutation { setActorRoles(id: "${NIL_UUID}", roles: ["ADMIN"]) { id } }`,
          adminToken,
        ),
        'NOT_FOUND',
      );
    });

    it('finds an actor by id in any letter case', async () => {
      const id = await actorId(await userToken('casey'));
      const res = await bk.graphql(
        `{ actor(id: "${id.toUpperCase()}") { id subject } }`,
        adminToken,
      );
      expect(res.body.data).toEqual({ actor: { id, subject: 'casey' } });
    });
  });

  describe('query limits', () => {
    const deep =
      '{ me { memberships { actor { memberships { actor { memberships { id } } } } } } }';

    it(`refuses a query deeper than ${MAX_DEPTH} before executing it`, async () => {
      const ok = await bk.graphql('{ me { memberships { actor { id } } } }', adminToken);
      expect(ok.body.errors).toBeUndefined();
      const res = await bk.graphql(deep, adminToken);
      expectClientError(res, 'QUERY_TOO_COMPLEX');
      expect(res.body.errors?.[0]?.message).toMatch(/depth \d+ exceeds the limit of 5/);
      // Hiding depth in fragments does not help.
      const viaFragments = await bk.graphql(
        `fragment A on Actor { memberships { actor { ...B } } }
         fragment B on Actor { memberships { actor { id } } }
         { me { ...A } }`,
        adminToken,
      );
      expectClientError(viaFragments, 'QUERY_TOO_COMPLEX');
      // Anyone is refused, not only admins, and nothing is executed for them either.
      expectClientError(await bk.graphql(deep, await userToken('nina')), 'QUERY_TOO_COMPLEX');
    });

    it(`refuses a query costlier than ${MAX_COMPLEXITY}, including through variables and aliases`, async () => {
      const selection = 'edges { node { id email name } } totalCount';
      const cheap = await bk.graphql(`{ actors(first: 5) { ${selection} } }`, adminToken);
      expect(cheap.body.errors).toBeUndefined();
      expectClientError(
        await bk.graphql(`{ actors(first: 100) { ${selection} } }`, adminToken),
        'QUERY_TOO_COMPLEX',
      );
      const withVariable = `query($n: Int!) { actors(first: $n) { ${selection} } }`;
      expect((await bk.graphql(withVariable, adminToken, { n: 5 })).body.errors).toBeUndefined();
      expectClientError(
        await bk.graphql(withVariable, adminToken, { n: 100 }),
        'QUERY_TOO_COMPLEX',
      );
      // Many cheap aliases add up.
      const aliases = Array.from(
        { length: 10 },
        (_, i) => `a${i}: actors(first: 10) { ${selection} }`,
      ).join(' ');
      expectClientError(await bk.graphql(`{ ${aliases} }`, adminToken), 'QUERY_TOO_COMPLEX');
      // The same document after a refusal is still refused (no verdict cached the wrong way).
      expectClientError(
        await bk.graphql(`{ actors(first: 100) { ${selection} } }`, adminToken),
        'QUERY_TOO_COMPLEX',
      );
    });
  });

  describe('actors connection', () => {
    const SEARCH = '@paging.bk.example';
    let subjects: string[];

    beforeAll(async () => {
      // Created concurrently: many share one INSERT and so one created_at; the id breaks the ties.
      subjects = Array.from({ length: 23 }, (_, i) => `pg-${String(i).padStart(2, '0')}`);
      const tokens = await Promise.all(
        subjects.map((s) => userToken(s, { email: `${s}${SEARCH}` })),
      );
      await Promise.all(tokens.map((t) => actorId(t)));
    });

    async function page(vars: Record<string, unknown>): Promise<Page> {
      const res = await bk.graphql(
        `query($first: Int!, $after: String, $filter: ActorFilter) {
           actors(first: $first, after: $after, filter: $filter) {
             totalCount
             edges { cursor node { id subject createdAt } }
             pageInfo { hasNextPage endCursor }
           }
         }`,
        adminToken,
        vars,
      );
      expect(res.body.errors).toBeUndefined();
      return res.body.data!.actors as Page;
    }

    async function all(filter: Record<string, unknown>, first: number): Promise<Page['edges']> {
      const edges: Page['edges'] = [];
      let after: string | null = null;
      for (let guard = 0; guard < 100; guard++) {
        const p = await page({ first, after, filter });
        expect(p.edges.length).toBeLessThanOrEqual(first);
        edges.push(...p.edges);
        if (!p.pageInfo.hasNextPage) {
          expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)?.cursor ?? null);
          return edges;
        }
        expect(p.edges).toHaveLength(first);
        expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)!.cursor);
        after = p.pageInfo.endCursor;
      }
      throw new Error('pagination did not end');
    }

    it('returns every actor exactly once across pages of any size', async () => {
      for (const first of [1, 4, 7, 23, 25]) {
        const edges = await all({ search: SEARCH }, first);
        expect(edges.map((e) => e.node.subject).sort()).toEqual(subjects);
        expect(new Set(edges.map((e) => e.node.id)).size).toBe(subjects.length);
      }
      expect((await page({ first: 4, filter: { search: SEARCH } })).totalCount).toBe(23);
      // Oldest first, ties (one INSERT, one created_at) broken by id: the order is stable and total.
      const edges = await all({ search: SEARCH }, 5);
      const ids = edges.map((e) => e.node.id);
      const expected = await query<{ id: string }>(
        bk.databaseUrl,
        'SELECT id FROM actors WHERE id = ANY($1::uuid[]) ORDER BY created_at, id',
        [ids],
      );
      expect(ids).toEqual(expected.map((r) => r.id));
    });

    it('filters by issuer and by status, with totalCount matching the filter', async () => {
      await Promise.all(
        ['ob-1', 'ob-2', 'ob-3'].map(async (s) =>
          actorId(await other.token(OTHER_AUD, { sub: s, email: `${s}@other.bk.example` })),
        ),
      );
      const others = await all({ issuer: 'other' }, 2);
      expect(others.length).toBeGreaterThanOrEqual(3);
      const ids = others.map((e) => e.node.id);
      const issuers = await query<{ issuer_name: string }>(
        bk.databaseUrl,
        'SELECT DISTINCT issuer_name FROM actors WHERE id = ANY($1::uuid[])',
        [ids],
      );
      expect(issuers).toEqual([{ issuer_name: 'other' }]);
      const [{ count }] = await query<{ count: string }>(
        bk.databaseUrl,
        "SELECT count(*) FROM actors WHERE issuer_name = 'other'",
      );
      expect((await page({ first: 1, filter: { issuer: 'other' } })).totalCount).toBe(
        Number(count),
      );
      expect((await page({ first: 1, filter: { issuer: 'nobody' } })).totalCount).toBe(0);

      const pageAll = await all({ search: SEARCH }, 25);
      const toDisable = [pageAll[3].node, pageAll[17].node];
      for (const a of toDisable) await disableActor(bk, adminToken, a.id);
      const disabled = await all({ search: SEARCH, status: 'DISABLED' }, 1);
      expect(disabled.map((e) => e.node.id).sort()).toEqual(toDisable.map((a) => a.id).sort());
      const active = await all({ search: SEARCH, status: 'ACTIVE' }, 10);
      expect(active).toHaveLength(21);
      expect(
        (await page({ first: 1, filter: { search: SEARCH, status: 'DISABLED' } })).totalCount,
      ).toBe(2);
      const both = await all(
        { issuer: 'stub', status: 'DISABLED', search: toDisable[0].subject },
        5,
      );
      expect(both.map((e) => e.node.id)).toEqual([toDisable[0].id]);
      expect(
        await all({ issuer: 'other', status: 'DISABLED', search: toDisable[0].subject }, 5),
      ).toEqual([]);
      for (const a of toDisable) await enableActor(bk, adminToken, a.id);
    });

    it('treats %, _ and \\ in search literally, case-insensitively', async () => {
      const people: [string, string][] = [
        ['lit-1', 'under_score@lit.example'],
        ['lit-2', 'underXscore@lit.example'],
        ['lit-3', '50%off@lit.example'],
        ['lit-4', '50xoff@lit.example'],
        ['lit-5', 'back\\slash@lit.example'],
        ['lit-6', 'backXslash@lit.example'],
      ];
      for (const [sub, email] of people) await actorId(await userToken(sub, { email }));
      const subjectsFor = async (search: string) =>
        (await all({ search }, 10)).map((e) => e.node.subject).sort();
      expect(await subjectsFor('under_score')).toEqual(['lit-1']);
      expect(await subjectsFor('UNDER_SCORE@LIT')).toEqual(['lit-1']);
      expect(await subjectsFor('50%off')).toEqual(['lit-3']);
      expect(await subjectsFor('back\\slash')).toEqual(['lit-5']);
      expect(await subjectsFor('%')).toEqual(['lit-3']);
      expect(await subjectsFor('_')).toEqual(['lit-1']);
      expect(await subjectsFor('@lit.example')).toEqual([
        'lit-1',
        'lit-2',
        'lit-3',
        'lit-4',
        'lit-5',
        'lit-6',
      ]);
      // Search also matches the subject.
      expect(await subjectsFor('lit-4')).toEqual(['lit-4']);
    });
  });
});
