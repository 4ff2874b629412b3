import { startBridgekeeper, startPeer, type RunningBridgekeeper } from '../support/bridgekeeper';
import { disableActor, enableActor } from '../support/gql-ops';
import { JwksStub } from '../support/jwks-stub';
import { OidcIdp } from '../support/oidc-provider';
import { waitFor } from '../support/ports';
import { query } from '../support/postgres';
import { type JsonAnswer, userinfo as userinfoAt } from '../support/rest-ops';

// Lazy actors over real HTTP: provisioning (jit / existing), profile refresh, the first-login race
// (SECURITY.md rule 17), identity = (issuer, sub) (rule 5), disabling, and lastSeenAt write throttling.
// Real servers and several app instances start here: more than jest's 5 s default (the config's
// testTimeout is not a project option, so it does not apply).
jest.setTimeout(60_000);
const PARTNER_AUD = 'bk-actors-partner';
const OTHER_AUD = 'bk-actors-other';

interface ActorRow extends Record<string, unknown> {
  id: string;
  issuer_name: string;
  subject: string;
  email: string | null;
  email_verified: boolean | null;
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  preferred_username: string | null;
  roles: string[];
  status: string;
  created_at: Date;
  updated_at: Date;
  last_seen_at: Date | null;
}

describe('actors: provisioning and lifecycle', () => {
  let idp: OidcIdp;
  let partner: JwksStub;
  let other: JwksStub;
  let bk: RunningBridgekeeper;
  let adminToken: string;

  const issuers = () => [
    idp.trustedIssuer(),
    partner.trustedIssuer('partner', PARTNER_AUD, { provisioning: 'existing' }),
    other.trustedIssuer('other', OTHER_AUD),
  ];

  beforeAll(async () => {
    [idp, partner, other] = await Promise.all([
      OidcIdp.start(),
      JwksStub.start(),
      JwksStub.start(),
    ]);
    bk = await startBridgekeeper({ issuers: issuers(), admins: ['idp:root'] });
    adminToken = await idp.login('root');
  });

  afterAll(async () => {
    try {
      // Whatever happened above, no bearer token ever reached a log line (rule 14).
      const logs = bk?.logs.join('\n') ?? '';
      expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
      expect(logs).not.toContain(adminToken);
    } finally {
      await bk?.close();
      await Promise.all([idp?.stop(), partner?.stop(), other?.stop()]);
    }
  });

  const rows = (issuer: string, subject: string) =>
    query<ActorRow>(
      bk.databaseUrl,
      'SELECT * FROM actors WHERE issuer_name = $1 AND subject = $2',
      [issuer, subject],
    );

  const userinfo = (
    token: string,
    target: RunningBridgekeeper = bk,
    method: 'GET' | 'POST' = 'GET',
  ): Promise<JsonAnswer> => userinfoAt(target, token, { method });

  function expectInvalidToken(r: JsonAnswer): void {
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    // Generic body: no claim of the token echoed back (rule 4).
    expect(r.body).toEqual({ error: 'invalid_token', error_description: expect.any(String) });
  }

  describe('just-in-time provisioning', () => {
    it('creates exactly one actor with every profile claim on the first valid token', async () => {
      expect(await rows('idp', 'ivy')).toHaveLength(0);
      const token = await idp.login('ivy', {
        email: 'ivy@example.com',
        email_verified: true,
        name: 'Ivy Example',
        given_name: 'Ivy',
        family_name: 'Example',
        preferred_username: 'ivy',
      });
      const first = await userinfo(token);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({
        sub: expect.stringMatching(/^[0-9a-f-]{36}$/),
        issuer: 'idp',
        subject: 'ivy',
        roles: [],
        email: 'ivy@example.com',
        email_verified: true,
        name: 'Ivy Example',
        given_name: 'Ivy',
        family_name: 'Example',
        preferred_username: 'ivy',
      });
      const stored = await rows('idp', 'ivy');
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({
        id: first.body.sub,
        email: 'ivy@example.com',
        email_verified: true,
        name: 'Ivy Example',
        given_name: 'Ivy',
        family_name: 'Example',
        preferred_username: 'ivy',
        roles: [],
        status: 'ACTIVE',
      });
      expect(stored[0].last_seen_at).not.toBeNull();

      // The same token again, a new token, and POST userinfo: still that one actor.
      expect((await userinfo(token)).body.sub).toBe(first.body.sub);
      expect((await userinfo(await idp.login('ivy'), bk, 'POST')).body.sub).toBe(first.body.sub);
      expect(await rows('idp', 'ivy')).toHaveLength(1);
    });

    it('refreshes changed profile claims, keeps omitted ones, and writes nothing when unchanged', async () => {
      const first = await userinfo(
        await idp.login('judy', { email: 'judy@old.example', name: 'Judy Old', given_name: 'J' }),
      );
      expect(first.status).toBe(200);
      const [created] = await rows('idp', 'judy');

      // Identical claims in a new token: no write at all.
      await userinfo(
        await idp.login('judy', { email: 'judy@old.example', name: 'Judy Old', given_name: 'J' }),
      );
      const [same] = await rows('idp', 'judy');
      expect(same.updated_at.toISOString()).toBe(created.updated_at.toISOString());

      const changed = await userinfo(
        await idp.login('judy', { email: 'judy@new.example', name: 'Judy New' }),
      );
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({
        sub: first.body.sub,
        email: 'judy@new.example',
        name: 'Judy New',
        given_name: 'J',
      });
      const [refreshed] = await rows('idp', 'judy');
      expect(refreshed).toMatchObject({
        id: first.body.sub,
        email: 'judy@new.example',
        name: 'Judy New',
        given_name: 'J',
      });
      expect(refreshed.updated_at.getTime()).toBeGreaterThan(created.updated_at.getTime());
      // GraphQL sees the refreshed claims too.
      const me = await bk.graphql('{ me { email name givenName } }', await idp.login('judy'));
      expect(me.body.data?.me).toEqual({
        email: 'judy@new.example',
        name: 'Judy New',
        givenName: 'J',
      });
    });

    it('creates exactly one actor when 100 first requests for a new subject arrive at once (rule 17)', async () => {
      const tokens = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          other.token(OTHER_AUD, { sub: 'stampede', email: 'stampede@example.com', jti: `j${i}` }),
        ),
      );
      const results = await Promise.all(tokens.map((t) => userinfo(t)));
      expect(results.map((r) => r.status)).toEqual(Array(100).fill(200));
      const subs = new Set(results.map((r) => r.body.sub));
      expect(subs.size).toBe(1);
      const stored = await rows('other', 'stampede');
      expect(stored).toHaveLength(1);
      expect(stored[0].id).toBe([...subs][0]);
    });

    it('creates exactly one actor when two nodes race on the same new subject (INSERT … ON CONFLICT)', async () => {
      const second = await startPeer(bk, { issuers: issuers(), admins: ['idp:root'] });
      try {
        const tokens = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            other.token(OTHER_AUD, { sub: 'two-node-stampede', jti: `n${i}` }),
          ),
        );
        const results = await Promise.all(
          tokens.map((t, i) => userinfo(t, i % 2 === 0 ? bk : second)),
        );
        expect(results.map((r) => r.status)).toEqual(Array(100).fill(200));
        expect(new Set(results.map((r) => r.body.sub)).size).toBe(1);
        expect(await rows('other', 'two-node-stampede')).toHaveLength(1);
      } finally {
        await second.close();
      }
    });

    it('keys identity on (issuer, sub): the same sub at two issuers is two actors, admin is per issuer', async () => {
      const fromIdp = await userinfo(await idp.login('root'));
      const fromOther = await userinfo(await other.token(OTHER_AUD, { sub: 'root' }));
      expect(fromIdp.status).toBe(200);
      expect(fromOther.status).toBe(200);
      expect(fromIdp.body).toMatchObject({ issuer: 'idp', subject: 'root', roles: ['ADMIN'] });
      // `idp:root` is an admin; `other:root` is somebody else entirely and gets nothing.
      expect(fromOther.body).toMatchObject({ issuer: 'other', subject: 'root', roles: [] });
      expect(fromOther.body.sub).not.toBe(fromIdp.body.sub);
      expect(await rows('idp', 'root')).toHaveLength(1);
      expect(await rows('other', 'root')).toHaveLength(1);
      const res = await bk.graphql(
        '{ actors { totalCount } }',
        await other.token(OTHER_AUD, { sub: 'root' }),
      );
      expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });
  });

  describe('provisioning=existing', () => {
    it('refuses an unknown subject with 401 on REST and GraphQL, creating nothing', async () => {
      const token = await partner.token(PARTNER_AUD, { sub: 'walk-in', email: 'w@example.com' });
      expectInvalidToken(await userinfo(token));
      expectInvalidToken(await userinfo(token, bk, 'POST'));
      const gql = await bk.graphql('{ me { id } }', token);
      expect(gql.status).toBe(401);
      expect(gql.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(gql.body.data ?? null).toBeNull();
      expect(await rows('partner', 'walk-in')).toHaveLength(0);
      // A jit issuer's actor with that sub does not make it known at this issuer either.
      expect((await userinfo(await other.token(OTHER_AUD, { sub: 'walk-in' }))).status).toBe(200);
      expectInvalidToken(await userinfo(await partner.token(PARTNER_AUD, { sub: 'walk-in' })));
      expect(await rows('partner', 'walk-in')).toHaveLength(0);
    });

    it('accepts a subject that exists, and refreshes its profile claims', async () => {
      const [inserted] = await query<{ id: string }>(
        bk.databaseUrl,
        "INSERT INTO actors (issuer_name, subject, email) VALUES ('partner', 'member', 'm@old.example') RETURNING id",
      );
      const ok = await userinfo(
        await partner.token(PARTNER_AUD, { sub: 'member', email: 'm@new.example' }),
      );
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({
        sub: inserted.id,
        issuer: 'partner',
        subject: 'member',
        email: 'm@new.example',
      });
      expect((await rows('partner', 'member'))[0].email).toBe('m@new.example');
      const me = await bk.graphql(
        '{ me { id issuer } }',
        await partner.token(PARTNER_AUD, { sub: 'member' }),
      );
      expect(me.body.data?.me).toEqual({ id: inserted.id, issuer: 'partner' });
    });
  });

  describe('disabling', () => {
    it('refuses a disabled actor from the very next request (REST GET/POST and GraphQL); enabling restores it', async () => {
      const token = await idp.login('mallory', { email: 'mallory@example.com' });
      const before = await userinfo(token);
      expect(before.status).toBe(200);
      // Warm every cache with this token first.
      expect((await bk.graphql('{ me { id } }', token)).status).toBe(200);
      const id = before.body.sub as string;

      expect((await disableActor(bk, adminToken, id)).status).toBe('DISABLED');
      expect((await rows('idp', 'mallory'))[0].status).toBe('DISABLED');
      expectInvalidToken(await userinfo(token));
      expectInvalidToken(await userinfo(token, bk, 'POST'));
      const gql = await bk.graphql('{ me { id } }', token);
      expect(gql.status).toBe(401);
      expect(gql.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(gql.body.data ?? null).toBeNull();
      // New tokens, even with changed claims, neither pass nor re-activate the actor.
      expectInvalidToken(
        await userinfo(await idp.login('mallory', { email: 'mallory@elsewhere.example' })),
      );
      expect((await rows('idp', 'mallory'))[0].status).toBe('DISABLED');

      expect((await enableActor(bk, adminToken, id)).status).toBe('ACTIVE');
      const again = await userinfo(token);
      expect(again.status).toBe(200);
      expect(again.body.sub).toBe(id);
      expect((await bk.graphql('{ me { status } }', token)).body.data?.me).toEqual({
        status: 'ACTIVE',
      });
    });

    it('refuses a disabled actor of a provisioning=existing issuer too', async () => {
      const [row] = await query<{ id: string }>(
        bk.databaseUrl,
        "INSERT INTO actors (issuer_name, subject) VALUES ('partner', 'contractor') RETURNING id",
      );
      const token = await partner.token(PARTNER_AUD, { sub: 'contractor' });
      expect((await userinfo(token)).status).toBe(200);
      await disableActor(bk, adminToken, row.id);
      expectInvalidToken(await userinfo(token));
      await enableActor(bk, adminToken, row.id);
      expect((await userinfo(token)).status).toBe(200);
    });
  });

  describe('lastSeenAt', () => {
    it('is set on creation and not rewritten on every request (default interval: 300 s)', async () => {
      const token = await idp.login('busy');
      expect((await userinfo(token)).status).toBe(200);
      const [created] = await rows('idp', 'busy');
      expect(created.last_seen_at).not.toBeNull();
      for (let i = 0; i < 10; i++) expect((await userinfo(token)).status).toBe(200);
      for (let i = 0; i < 3; i++) await userinfo(await idp.login('busy'));
      expect((await bk.graphql('{ me { id } }', token)).status).toBe(200);
      const [after] = await rows('idp', 'busy');
      expect(after.last_seen_at?.toISOString()).toBe(created.last_seen_at?.toISOString());
      expect(after.updated_at.toISOString()).toBe(created.updated_at.toISOString());
    });

    it('is written again once the configured interval has passed, without touching updated_at', async () => {
      const quick = await startPeer(bk, {
        issuers: issuers(),
        properties: { 'bridgekeeper.actors.last.seen.interval.seconds': '1' },
      });
      try {
        const token = await other.token(OTHER_AUD, { sub: 'returning' });
        expect((await userinfo(token, quick)).status).toBe(200);
        const [created] = await rows('other', 'returning');
        const seen = created.last_seen_at!.getTime();
        await waitFor('the interval to pass', async () => Date.now() > seen + 1_200, 5_000, 100);
        expect((await userinfo(token, quick)).status).toBe(200);
        // Written off the request path: poll the row.
        await waitFor(
          'lastSeenAt to move',
          async () => (await rows('other', 'returning'))[0].last_seen_at!.getTime() > seen,
          5_000,
        );
        const [after] = await rows('other', 'returning');
        expect(after.updated_at.toISOString()).toBe(created.updated_at.toISOString());
        const me = await quick.graphql('{ me { id } }', token);
        expect(me.status).toBe(200);
      } finally {
        await quick.close();
      }
    });
  });
});
