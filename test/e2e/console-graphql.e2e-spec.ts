import * as oidc from 'openid-client';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { ConsoleActivityService } from 'src/console/console-activity.service';
import { type RunningBridgekeeper, startBridgekeeper, startPeer } from '../support/bridgekeeper';
import { TestBrowser } from '../support/browser';
import { consoleSignIn, type ConsoleSignIn } from '../support/console-signin';
import { OidcIdp } from '../support/oidc-provider';
import { waitFor } from '../support/ports';

// Issue 10: the GraphQL the console needs, over HTTP against a real node (PostgreSQL, a real IdP, the
// real login page): viewer and roles, actor search, token statistics and the overview (cluster-wide),
// and My account (sessions, sign-out, password change), each with its refusals.
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new passphrase 2026';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

type Gql = Awaited<ReturnType<RunningBridgekeeper['graphql']>>;

describe('the console’s GraphQL', () => {
  let idp: OidcIdp;
  let bk: RunningBridgekeeper;
  let root: string;
  let p1: string;
  let p2: string;

  beforeAll(async () => {
    idp = await OidcIdp.start();
    bk = await startBridgekeeper({ issuers: [idp.trustedIssuer()], admins: ['idp:root'] });
    root = await idp.login('root');
    p1 = await createProject('Clinic One');
    p2 = await createProject('Clinic Two');
    const accounts = bk.app.get(LocalAccountsService);
    await accounts.create({ username: 'alice', email: 'alice@example.com', password: PASSWORD });
    await accounts.create({ username: 'carol', password: PASSWORD });
  });

  afterAll(async () => {
    await bk?.close();
    await idp?.stop();
  });

  async function createProject(name: string): Promise<string> {
    const res = await bk.graphql(`mutation { createProject(name: "${name}") { id } }`, root);
    expect(res.body.errors).toBeUndefined();
    return (res.body.data!.createProject as { id: string }).id;
  }

  function ok(res: Gql): Record<string, unknown> {
    expect(res.body.errors).toBeUndefined();
    return res.body.data!;
  }

  function errorOf(res: Gql): { code?: unknown; errorCode?: unknown; message: string } {
    const e = res.body.errors?.[0];
    expect(e).toBeDefined();
    return { code: e!.extensions?.code, errorCode: e!.extensions?.errorCode, message: e!.message };
  }

  const VIEWER =
    '{ viewer { actor { issuer subject preferredUsername } isServerAdmin adminProjects { id name } } }';

  describe('viewer', () => {
    it('tells a server ADMIN they administer everything', async () => {
      const v = ok(await bk.graphql(VIEWER, root)).viewer as {
        isServerAdmin: boolean;
        adminProjects: { id: string }[];
        actor: { issuer: string; subject: string };
      };
      expect(v.isServerAdmin).toBe(true);
      expect(v.actor).toMatchObject({ issuer: 'idp', subject: 'root' });
      expect(v.adminProjects.map((p) => p.id)).toEqual(expect.arrayContaining([p1, p2]));
    });

    it('tells a project admin their projects only, and the API refuses them the others', async () => {
      const invited = await bk.post(
        `/admin/projects/${p1}/invite`,
        {
          resourceType: 'Practitioner',
          firstName: 'Pat',
          lastName: 'Admin',
          externalId: 'pat-sub',
          issuer: 'idp',
          admin: true,
        },
        root,
      );
      expect(invited.status).toBe(201);
      const pat = await idp.login('pat-sub');
      expect((await bk.get('/oauth2/userinfo', pat)).status).toBe(200); // links Pat's actor
      expect(ok(await bk.graphql(VIEWER, pat)).viewer).toEqual({
        actor: { issuer: 'idp', subject: 'pat-sub', preferredUsername: null },
        isServerAdmin: false,
        adminProjects: [{ id: p1, name: 'Clinic One' }],
      });
      expect(ok(await bk.graphql(`{ project(id: "${p1}") { id } }`, pat)).project).toEqual({
        id: p1,
      });
      for (const query of [
        `{ project(id: "${p2}") { id memberships { id } } }`,
        '{ tokenStats { buckets { count } } }',
        '{ overview { activeBrowserSessions } }',
        '{ actors { totalCount } }',
      ]) {
        expect(errorOf(await bk.graphql(query, pat)).code).toBe('FORBIDDEN');
      }
      const res = await bk.post(
        `/admin/projects/${p2}/invite`,
        { resourceType: 'Practitioner', firstName: 'X', lastName: 'Y', email: 'x@example.com' },
        pat,
      );
      expect(res.status).toBe(403);
    });

    it('tells a person with no role that they administer nothing', async () => {
      const { tokens } = await consoleSignIn(bk, 'carol', PASSWORD);
      expect(ok(await bk.graphql(VIEWER, tokens.access_token)).viewer).toEqual({
        actor: { issuer: 'bridgekeeper', subject: expect.any(String), preferredUsername: 'carol' },
        isServerAdmin: false,
        adminProjects: [],
      });
    });

    it('is refused without a token', async () => {
      const res = await bk.graphql(VIEWER);
      expect(res.status).toBe(401);
    });
  });

  describe('actor search', () => {
    const ACTORS = `query($f: ActorFilter, $after: String) {
      actors(first: 2, after: $after, filter: $f) {
        totalCount edges { node { subject email name } } pageInfo { hasNextPage endCursor }
      }
    }`;
    interface Page {
      totalCount: number;
      edges: { node: { subject: string; email: string | null; name: string | null } }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    }

    beforeAll(async () => {
      for (const [sub, email, name] of [
        ['Search-Sub-1', 'ann.lee@north.example', 'Ann Lee'],
        ['search-sub-2', 'bo.lee@north.example', 'Bo Lee'],
        ['search-sub-3', 'cy@south.example', 'Cy Leeward'],
        ['other-4', 'dee@south.example', 'Dee Park'],
      ]) {
        const token = await idp.login(sub, { email, name });
        expect((await bk.get('/oauth2/userinfo', token)).status).toBe(200);
      }
    });

    async function search(f: Record<string, string>, after?: string): Promise<Page> {
      return ok(await bk.graphql(ACTORS, root, { f, after })).actors as Page;
    }

    it('filters by subject, email and name, ignoring case, and pages with the cursor', async () => {
      const first = await search({ subject: 'SEARCH-SUB' });
      expect(first.totalCount).toBe(3);
      expect(first.pageInfo.hasNextPage).toBe(true);
      const second = await search({ subject: 'SEARCH-SUB' }, first.pageInfo.endCursor!);
      expect([...first.edges, ...second.edges].map((e) => e.node.subject)).toEqual([
        'Search-Sub-1',
        'search-sub-2',
        'search-sub-3',
      ]);
      expect(second.pageInfo.hasNextPage).toBe(false);
      expect((await search({ email: 'NORTH.example' })).totalCount).toBe(2);
      expect((await search({ name: 'lee' })).totalCount).toBe(3);
      expect((await search({ name: 'lee', email: 'south' })).edges[0].node.name).toBe('Cy Leeward');
      expect((await search({ name: 'lee', issuer: 'idp' })).totalCount).toBe(3);
      expect((await search({ name: 'lee', issuer: 'bridgekeeper' })).totalCount).toBe(0);
      expect((await search({ subject: '%' })).totalCount).toBe(0);
    });

    it('refuses oversized filters as bad input', async () => {
      const res = await bk.graphql(ACTORS, root, { f: { email: 'x'.repeat(400) } });
      expect(errorOf(res).code).toBe('BAD_USER_INPUT');
    });
  });

  describe('tokenStats and overview', () => {
    const STATS =
      'query($m: Int) { tokenStats(lastMinutes: $m) { buckets { minute issuer outcome reason count } } }';
    interface Bucket {
      minute: string;
      issuer: string;
      outcome: string;
      reason: string | null;
      count: number;
    }

    async function buckets(node = bk): Promise<Bucket[]> {
      return (ok(await node.graphql(STATS, root, { m: 5 })).tokenStats as { buckets: Bucket[] })
        .buckets;
    }

    const total = (list: Bucket[], p: (b: Bucket) => boolean): number =>
      list.filter(p).reduce((n, b) => n + b.count, 0);

    it('counts accepted and refused validations per issuer and reason, per minute, on every node', async () => {
      const before = await buckets();
      const token = await idp.login('stats-person');
      for (let i = 0; i < 3; i++)
        expect((await bk.get('/oauth2/userinfo', token)).status).toBe(200);
      const garbage = 'not-a-jwt-at-all';
      for (let i = 0; i < 2; i++)
        expect((await bk.get('/oauth2/userinfo', garbage)).status).toBe(401);
      // A second node of the deployment: its counts reach the same table.
      const peer = await startPeer(bk, { issuers: [idp.trustedIssuer()], admins: ['idp:root'] });
      try {
        expect((await peer.get('/oauth2/userinfo', token)).status).toBe(200);
        await peer.app.get(ConsoleActivityService).flush();
      } finally {
        await peer.close();
      }
      const after = await buckets();
      const accepted = (b: Bucket) => b.issuer === 'idp' && b.outcome === 'ACCEPTED';
      const refused = (b: Bucket) => b.issuer === 'unknown' && b.outcome === 'REFUSED';
      expect(total(after, accepted) - total(before, accepted)).toBeGreaterThanOrEqual(4);
      expect(total(after, refused) - total(before, refused)).toBe(2);
      for (const b of after) {
        expect(new Date(b.minute).getUTCSeconds()).toBe(0);
        if (b.outcome === 'ACCEPTED') expect(b.reason).toBeNull();
        else expect(b.reason).toMatch(/^[a-z_]+$/);
      }
      const text = JSON.stringify(after);
      expect(text).not.toContain(garbage);
      expect(text).not.toContain(token.slice(0, 20));
    });

    it('refuses a window outside 1 to 1440 minutes', async () => {
      for (const m of [0, 1441]) {
        expect(errorOf(await bk.graphql(STATS, root, { m })).code).toBe('BAD_USER_INPUT');
      }
    });

    it('counts actors created today, failed logins in the last hour and live browser sessions', async () => {
      const OVERVIEW =
        '{ overview { actorsCreatedToday failedLoginsLastHour activeBrowserSessions } }';
      const before = ok(await bk.graphql(OVERVIEW, root)).overview as Record<string, number>;
      const browser = new TestBrowser(bk.url);
      for (const password of ['wrong one', 'wrong two']) {
        const res = await browser.submit('/login', { username: 'alice', password });
        expect(res.status).toBe(401);
      }
      await consoleSignIn(bk, 'alice', PASSWORD);
      expect((await bk.get('/oauth2/userinfo', await idp.login('brand-new-today'))).status).toBe(
        200,
      );
      const after = ok(await bk.graphql(OVERVIEW, root)).overview as Record<string, number>;
      expect(after.failedLoginsLastHour - before.failedLoginsLastHour).toBe(2);
      expect(after.actorsCreatedToday - before.actorsCreatedToday).toBe(1);
      expect(after.activeBrowserSessions - before.activeBrowserSessions).toBe(1);
      expect(after.actorsCreatedToday).toBeGreaterThanOrEqual(8);
    });
  });

  describe('my account', () => {
    let one: ConsoleSignIn;
    let two: ConsoleSignIn;
    const SESSIONS = '{ myBrowserSessions { id createdAt lastSeenAt userAgent current } }';
    interface Session {
      id: string;
      userAgent: string | null;
      current: boolean;
    }

    async function sessions(token: string): Promise<Session[]> {
      return ok(await bk.graphql(SESSIONS, token)).myBrowserSessions as Session[];
    }

    beforeAll(async () => {
      await bk.app.get(LocalAccountsService).create({ username: 'dora', password: PASSWORD });
      one = await consoleSignIn(bk, 'dora', PASSWORD, new TestBrowser(bk.url), FIREFOX);
      two = await consoleSignIn(bk, 'dora', PASSWORD, new TestBrowser(bk.url), CHROME);
    });

    it('lists my browsers, marking the one I call from', async () => {
      const mine = await sessions(one.tokens.access_token);
      expect(mine).toHaveLength(2);
      expect(mine.find((s) => s.current)?.userAgent).toBe('Firefox on Linux');
      expect(mine.find((s) => !s.current)?.userAgent).toBe('Chrome on Windows');
      const fromTwo = await sessions(two.tokens.access_token);
      expect(fromTwo.find((s) => s.current)?.userAgent).toBe('Chrome on Windows');
    });

    it('refuses to end a session that is not mine, and a malformed id', async () => {
      const carol = await consoleSignIn(bk, 'carol', PASSWORD);
      const [carols] = await sessions(carol.tokens.access_token);
      const END = 'mutation($id: ID!) { endMyBrowserSession(id: $id) }';
      const theirs = await bk.graphql(END, one.tokens.access_token, { id: carols.id });
      expect(errorOf(theirs)).toMatchObject({ code: 'NOT_FOUND', errorCode: 'SESSION_NOT_FOUND' });
      const unknown = await bk.graphql(END, one.tokens.access_token, {
        id: '00000000-0000-4000-8000-000000000000',
      });
      expect(errorOf(unknown).code).toBe('NOT_FOUND');
      const bad = await bk.graphql(END, one.tokens.access_token, { id: '../x' });
      expect(errorOf(bad).code).toBe('BAD_USER_INPUT');
      expect((await sessions(carol.tokens.access_token)).map((s) => s.id)).toContain(carols.id);
    });

    it('ends one of my other browsers, with the grants made in it', async () => {
      const three = await consoleSignIn(bk, 'dora', PASSWORD, new TestBrowser(bk.url), CHROME);
      const target = (await sessions(three.tokens.access_token)).find((s) => s.current)!;
      const res = await bk.graphql(
        'mutation($id: ID!) { endMyBrowserSession(id: $id) }',
        one.tokens.access_token,
        {
          id: target.id,
        },
      );
      expect(ok(res).endMyBrowserSession).toBe(true);
      expect(
        (await bk.graphql('{ viewer { isServerAdmin } }', three.tokens.access_token)).status,
      ).toBe(401);
      await expect(
        oidc.refreshTokenGrant(three.config, three.tokens.refresh_token!),
      ).rejects.toThrow();
      expect((await sessions(one.tokens.access_token)).map((s) => s.id)).not.toContain(target.id);
    });

    it('refuses a wrong current password and a weak new one, as field errors', async () => {
      const CHANGE =
        'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';
      const wrong = await bk.graphql(CHANGE, one.tokens.access_token, {
        c: 'not it',
        n: NEW_PASSWORD,
      });
      expect(errorOf(wrong)).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 'WRONG_PASSWORD' });
      expect(errorOf(wrong).message).toMatch(/^currentPassword: /);
      const weak = await bk.graphql(CHANGE, one.tokens.access_token, {
        c: PASSWORD,
        n: 'password',
      });
      expect(errorOf(weak)).toMatchObject({
        code: 'BAD_USER_INPUT',
        errorCode: 'PASSWORD_REFUSED',
      });
      expect(errorOf(weak).message).toMatch(/^newPassword: /);
      const sso = await bk.graphql(CHANGE, await idp.login('pat-sub'), {
        c: PASSWORD,
        n: NEW_PASSWORD,
      });
      expect(errorOf(sso)).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 'NO_PASSWORD' });
      // Nothing changed: the old password still signs in.
      expect((await consoleSignIn(bk, 'dora', PASSWORD)).tokens.access_token).toBeTruthy();
    });

    it('locks the password change after as many wrong current passwords as the login allows', async () => {
      await bk.app.get(LocalAccountsService).create({ username: 'erin', password: PASSWORD });
      const erin = (await consoleSignIn(bk, 'erin', PASSWORD)).tokens.access_token;
      const CHANGE =
        'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';
      const limit = bk.config.auth.loginMaxFailuresPerAccount;
      for (let i = 1; i < limit; i++) {
        const res = await bk.graphql(CHANGE, erin, { c: `guess ${i}`, n: NEW_PASSWORD });
        expect(errorOf(res).errorCode).toBe('WRONG_PASSWORD');
      }
      const last = await bk.graphql(CHANGE, erin, { c: 'guess last', n: NEW_PASSWORD });
      expect(errorOf(last)).toMatchObject({
        code: 'BAD_USER_INPUT',
        errorCode: 'TOO_MANY_ATTEMPTS',
      });
      // Locked: even the right password waits.
      const right = await bk.graphql(CHANGE, erin, { c: PASSWORD, n: NEW_PASSWORD });
      expect(errorOf(right).errorCode).toBe('TOO_MANY_ATTEMPTS');
    });

    it('changes my password and ends my other sessions, keeping this one', async () => {
      const CHANGE =
        'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';
      const res = await bk.graphql(CHANGE, one.tokens.access_token, {
        c: PASSWORD,
        n: NEW_PASSWORD,
      });
      expect(ok(res).changePassword).toBe(true);
      expect(
        (await bk.graphql('{ viewer { isServerAdmin } }', two.tokens.access_token)).status,
      ).toBe(401);
      const left = await sessions(one.tokens.access_token);
      expect(left).toHaveLength(1);
      expect(left[0].current).toBe(true);
      const browser = new TestBrowser(bk.url);
      expect(
        (await browser.submit('/login', { username: 'dora', password: PASSWORD })).status,
      ).toBe(401);
      await consoleSignIn(bk, 'dora', NEW_PASSWORD);
    });

    it('signs me out everywhere: every browser and grant, this one included', async () => {
      const res = await bk.graphql('mutation { signOutEverywhere }', one.tokens.access_token);
      expect(ok(res).signOutEverywhere).toBeGreaterThanOrEqual(2);
      await waitFor(
        'the caller’s own token refused',
        async () =>
          (await bk.graphql('{ viewer { isServerAdmin } }', one.tokens.access_token)).status ===
          401,
        2000,
      );
      await expect(oidc.refreshTokenGrant(one.config, one.tokens.refresh_token!)).rejects.toThrow();
      // Tokens issued in the second of the sign-out are refused with the others: sign in again after it.
      let again: ConsoleSignIn | undefined;
      const browser = new TestBrowser(bk.url);
      await waitFor(
        'a new sign-in working',
        async () => {
          again = await consoleSignIn(bk, 'dora', NEW_PASSWORD, browser);
          return (await bk.graphql(SESSIONS, again.tokens.access_token)).status === 200;
        },
        5000,
        250,
      );
      expect(await sessions(again!.tokens.access_token)).toHaveLength(1);
    });

    it('is refused to a client acting on its own behalf', async () => {
      const created = await bk.graphql(
        'mutation { createClient(input: { name: "m2m", grantTypes: [CLIENT_CREDENTIALS], scopes: ["api"] }) { client { clientId } clientSecret } }',
        root,
      );
      const { client, clientSecret } = ok(created).createClient as {
        client: { clientId: string };
        clientSecret: string;
      };
      const tokenRes = await fetch(`${bk.url}/oauth2/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client.clientId}:${clientSecret}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials&scope=api',
      });
      const { access_token } = (await tokenRes.json()) as { access_token: string };
      expect(errorOf(await bk.graphql(SESSIONS, access_token)).code).toBe('FORBIDDEN');
      expect(errorOf(await bk.graphql('mutation { signOutEverywhere }', access_token)).code).toBe(
        'FORBIDDEN',
      );
    });

    it('never writes a password into the log', () => {
      const log = bk.logs.join('\n');
      for (const secret of [PASSWORD, NEW_PASSWORD, 'wrong one']) expect(log).not.toContain(secret);
    });
  });
});
