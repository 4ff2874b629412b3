import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { GrantsService } from 'src/oauth/grants/grants.service';
import { RevocationService } from 'src/revocation/revocation.service';
import { SigningKeysService } from 'src/signing-keys/signing-keys.service';
import { type RunningBridgekeeper, startTwoNodes } from '../support/bridgekeeper';
import { OidcIdp } from '../support/oidc-provider';
import { counter } from '../support/metrics';
import { query } from '../support/postgres';
import { waitFor } from '../support/ports';
import { type RedisServer, startRedis } from '../support/redis';

// Issue 4 §1-3: Bridgekeeper as an OAuth 2 provider, driven by a certified relying-party library
// (openid-client) and by hand for the negative cases. Two nodes share PostgreSQL and Redis.
interface CreatedClient {
  client: { id: string; clientId: string; actorId: string; status: string };
  clientSecret: string;
}

const CREATE_CLIENT = `mutation($input: CreateClientInput!) {
  createClient(input: $input) {
    client { id clientId actorId status scopes grantTypes }
    clientSecret
  }
}`;

describe('Bridgekeeper as an OAuth provider', () => {
  let idp: OidcIdp;
  let redis: RedisServer;
  let a: RunningBridgekeeper;
  let b: RunningBridgekeeper;
  let adminToken: string;

  beforeAll(async () => {
    [idp, redis] = await Promise.all([OidcIdp.start(), startRedis()]);
    const issuers = [
      { name: 'idp', issuer: idp.issuer, jwks: idp.jwksUrl, audiences: idp.audience },
    ];
    [a, b] = await startTwoNodes({ issuers, admins: ['idp:root'], redisUrl: redis.url });
    adminToken = await idp.login('root');
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await Promise.all([idp?.stop(), redis?.stop()]);
  });

  async function createClient(input: Record<string, unknown>): Promise<CreatedClient> {
    const res = await a.graphql(CREATE_CLIENT, adminToken, {
      input: { name: 'svc', grantTypes: ['CLIENT_CREDENTIALS'], scopes: ['api', 'read'], ...input },
    });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.createClient as CreatedClient;
  }

  async function discover(c: CreatedClient, post = false): Promise<oidc.Configuration> {
    return oidc.discovery(
      new URL(a.url),
      c.client.clientId,
      undefined,
      post ? oidc.ClientSecretPost(c.clientSecret) : oidc.ClientSecretBasic(c.clientSecret),
      { execute: [oidc.allowInsecureRequests] },
    );
  }

  function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}) {
    return fetch(`${a.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }

  const basic = (id: string, secret: string) => ({
    authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
  });

  const status = async (node: RunningBridgekeeper, token: string) =>
    (await node.get('/oauth2/userinfo', token)).status;

  it('publishes discovery metadata whose issuer is exactly the iss of its tokens', async () => {
    const openid = (await (await a.get('/.well-known/openid-configuration')).json()) as Record<
      string,
      unknown
    >;
    const oauth: unknown = await (await a.get('/.well-known/oauth-authorization-server')).json();
    expect(openid).toEqual(oauth);
    expect(openid).toMatchObject({
      issuer: a.url,
      token_endpoint: `${a.url}/oauth2/token`,
      jwks_uri: `${a.url}/.well-known/jwks.json`,
      revocation_endpoint: `${a.url}/oauth2/revoke`,
      introspection_endpoint: `${a.url}/oauth2/introspect`,
      token_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
        'none',
      ],
      introspection_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
      ],
    });
    // Nothing that is not implemented: the code flow only (no implicit or hybrid response types).
    expect(openid.response_types_supported).toEqual(['code']);
    const jwks = (await (await a.get('/.well-known/jwks.json')).json()) as { keys: object[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
  });

  it('issues a client-credentials token through openid-client that works on REST and GraphQL, then revokes it everywhere', async () => {
    const c = await createClient({});
    const config = await discover(c);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('api');
    const header = decodeProtectedHeader(tokens.access_token);
    const claims = decodeJwt(tokens.access_token);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(claims).toMatchObject({
      iss: a.url,
      aud: a.url,
      sub: c.client.clientId,
      client_id: c.client.clientId,
      scope: 'api',
    });
    expect(typeof claims.jti).toBe('string');
    expect(claims.exp! - claims.iat!).toBe(300);

    const userinfo = await a.get('/oauth2/userinfo', tokens.access_token);
    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toMatchObject({
      sub: c.client.actorId,
      issuer: 'bridgekeeper:clients',
      subject: c.client.clientId,
    });
    const me = await b.graphql('{ me { id subject } }', tokens.access_token);
    expect(me.body.data?.me).toEqual({ id: c.client.actorId, subject: c.client.clientId });

    await oidc.tokenRevocation(config, tokens.access_token);
    expect(await status(a, tokens.access_token)).toBe(401);
    // The other node refuses it too, within a second (no timing assertion: a bounded wait).
    await waitFor(
      'node B to refuse the revoked token',
      async () => (await status(b, tokens.access_token)) === 401,
      5_000,
    );
    const refused = await b.get('/oauth2/userinfo', tokens.access_token);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('authenticates with client_secret_post too, and refuses two methods at once', async () => {
    const c = await createClient({});
    const tokens = await oidc.clientCredentialsGrant(await discover(c, true));
    expect(tokens.scope).toBe('api read');
    const both = await tokenRequest(
      {
        grant_type: 'client_credentials',
        client_id: c.client.clientId,
        client_secret: c.clientSecret,
      },
      basic(c.client.clientId, c.clientSecret),
    );
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('answers a wrong secret, an unknown client and no credentials with one invalid_client', async () => {
    const c = await createClient({});
    for (const headers of [
      basic(c.client.clientId, `${c.clientSecret}x`),
      basic('bkc_unknown', c.clientSecret),
    ]) {
      const res = await tokenRequest({ grant_type: 'client_credentials' }, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="bridgekeeper"');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = await res.json();
      expect(body).toEqual({
        error: 'invalid_client',
        error_description: 'Client authentication failed',
      });
    }
    const none = await tokenRequest({ grant_type: 'client_credentials' });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: 'invalid_client' });
    // No secret ever reaches a log line.
    expect(a.logs.join('\n')).not.toContain(c.clientSecret);
  });

  it('challenges every invalid_client with Basic, the header scheme it takes, never Bearer (issue 12 bug 7)', async () => {
    const c = await createClient({});
    const refusals: [string, Response][] = [
      [
        'client_secret_post with a wrong secret',
        await tokenRequest({
          grant_type: 'client_credentials',
          client_id: c.client.clientId,
          client_secret: `${c.clientSecret}x`,
        }),
      ],
      ['no credentials', await tokenRequest({ grant_type: 'client_credentials' })],
      [
        'a bare Basic header',
        await tokenRequest({ grant_type: 'client_credentials' }, { authorization: 'Basic' }),
      ],
      [
        'a Bearer header',
        await tokenRequest(
          { grant_type: 'client_credentials' },
          { authorization: `Bearer ${adminToken}` },
        ),
      ],
      [
        'a garbage private_key_jwt assertion',
        await tokenRequest({
          grant_type: 'client_credentials',
          client_id: c.client.clientId,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: 'not.a.jwt',
        }),
      ],
      [
        'introspection with a wrong posted secret',
        await fetch(`${a.url}/oauth2/introspect`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            token: 'x',
            client_id: c.client.clientId,
            client_secret: 'wrong',
          }).toString(),
        }),
      ],
    ];
    for (const [what, res] of refusals) {
      expect({ what, status: res.status, challenge: res.headers.get('www-authenticate') }).toEqual({
        what,
        status: 401,
        challenge: 'Basic realm="bridgekeeper"',
      });
      expect(await res.json()).toEqual({
        error: 'invalid_client',
        error_description: 'Client authentication failed',
      });
    }
  });

  it('never widens scope and never gives client credentials a refresh token', async () => {
    const c = await createClient({ scopes: ['api', 'offline_access'] });
    const auth = basic(c.client.clientId, c.clientSecret);
    const wider = await tokenRequest(
      { grant_type: 'client_credentials', scope: 'api admin' },
      auth,
    );
    expect(wider.status).toBe(400);
    expect(await wider.json()).toMatchObject({ error: 'invalid_scope' });
    const offline = await tokenRequest(
      { grant_type: 'client_credentials', scope: 'offline_access' },
      auth,
    );
    expect(await offline.json()).toMatchObject({ error: 'invalid_scope' });
    const all = (await (await tokenRequest({ grant_type: 'client_credentials' }, auth)).json()) as {
      scope: string;
      refresh_token?: string;
    };
    expect(all.scope).toBe('api');
    expect(all.refresh_token).toBeUndefined();
  });

  it('answers malformed token requests with the standard error bodies, never a 500', async () => {
    const c = await createClient({ grantTypes: ['CLIENT_CREDENTIALS'] });
    const auth = basic(c.client.clientId, c.clientSecret);
    const cases: [Record<string, string>, string][] = [
      [{ grant_type: 'password', username: 'u', password: 'p' }, 'unsupported_grant_type'],
      [{ grant_type: 'refresh_token', refresh_token: 'bkr_x' }, 'unauthorized_client'],
      [{}, 'invalid_request'],
    ];
    for (const [form, error] of cases) {
      const res = await tokenRequest(form, auth);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error });
    }
    const dup = await fetch(`${a.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
      body: 'grant_type=client_credentials&grant_type=client_credentials',
    });
    expect(await dup.json()).toMatchObject({ error: 'invalid_request' });
    const json = await fetch(`${a.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('introspects for the authenticated client: active tokens with their claims, anything else only active:false', async () => {
    const issuer = await createClient({});
    const resource = await createClient({});
    const token = (await oidc.clientCredentialsGrant(await discover(issuer))).access_token;
    const rs = await discover(resource);
    const active = await oidc.tokenIntrospection(rs, token);
    expect(active).toMatchObject({
      active: true,
      client_id: issuer.client.clientId,
      sub: issuer.client.clientId,
      scope: 'api read',
      token_type: 'Bearer',
    });
    const external = await idp.login('someone');
    for (const t of ['garbage', external, `${token}x`]) {
      const res = await fetch(`${a.url}/oauth2/introspect`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...basic(resource.client.clientId, resource.clientSecret),
        },
        body: new URLSearchParams({ token: t }).toString(),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ active: false });
    }
    await oidc.tokenRevocation(await discover(issuer), token);
    const revoked = await fetch(`${a.url}/oauth2/introspect`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...basic(resource.client.clientId, resource.clientSecret),
      },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(await revoked.json()).toEqual({ active: false });
    const anonymous = await fetch(`${a.url}/oauth2/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(anonymous.status).toBe(401);
  });

  it('revocation: garbage is a 200, another client’s token is refused and stays valid', async () => {
    const owner = await createClient({});
    const other = await createClient({});
    const token = (await oidc.clientCredentialsGrant(await discover(owner))).access_token;
    const revoke = (t: string) =>
      fetch(`${a.url}/oauth2/revoke`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...basic(other.client.clientId, other.clientSecret),
        },
        body: new URLSearchParams({ token: t }).toString(),
      });
    expect((await revoke('not-a-token')).status).toBe(200);
    expect((await revoke('bkr_unknown-refresh-token')).status).toBe(200);
    const foreign = await revoke(token);
    expect(foreign.status).toBe(400);
    expect(await foreign.json()).toMatchObject({ error: 'unauthorized_client' });
    expect(await status(a, token)).toBe(200);
  });

  it('disableClient refuses its tokens on every node within a second and its credentials at once', async () => {
    const c = await createClient({});
    const config = await discover(c);
    const token = (await oidc.clientCredentialsGrant(config)).access_token;
    expect(await status(b, token)).toBe(200);
    const res = await a.graphql(
      'mutation($id: ID!) { disableClient(id: $id) { status } }',
      adminToken,
      { id: c.client.id },
    );
    expect(res.body.data?.disableClient).toEqual({ status: 'DISABLED' });
    expect(await status(a, token)).toBe(401);
    await waitFor(
      'node B to refuse the disabled client',
      async () => (await status(b, token)) === 401,
      5_000,
    );
    // openid-client reports the 401's Basic challenge; the body is the standard invalid_client.
    await expect(oidc.clientCredentialsGrant(config)).rejects.toMatchObject({ status: 401 });
    const res2 = await tokenRequest(
      { grant_type: 'client_credentials' },
      basic(c.client.clientId, c.clientSecret),
    );
    expect(await res2.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('rotateClientSecret: the old secret stops working, the new one works', async () => {
    const c = await createClient({});
    const res = await a.graphql(
      'mutation($id: ID!) { rotateClientSecret(id: $id) { clientSecret client { clientId } } }',
      adminToken,
      { id: c.client.id },
    );
    const rotated = res.body.data?.rotateClientSecret as { clientSecret: string };
    expect(rotated.clientSecret).not.toBe(c.clientSecret);
    const old = await tokenRequest(
      { grant_type: 'client_credentials' },
      basic(c.client.clientId, c.clientSecret),
    );
    expect(old.status).toBe(401);
    const fresh = await tokenRequest(
      { grant_type: 'client_credentials' },
      basic(c.client.clientId, rotated.clientSecret),
    );
    expect(fresh.status).toBe(200);
  });

  it('stores only a hash of the secret and never lists it', async () => {
    const c = await createClient({});
    const list = await a.graphql(
      '{ clients(first: 100) { edges { node { clientId } } } }',
      adminToken,
    );
    expect(JSON.stringify(list.body)).not.toContain(c.clientSecret);
    const edges = (list.body.data?.clients as { edges: { node: { clientId: string } }[] }).edges;
    expect(edges.map((e) => e.node.clientId)).toContain(c.client.clientId);
    const [row] = await query<{ secret_hash: string }>(
      a.databaseUrl,
      'SELECT secret_hash FROM oauth_clients WHERE client_id = $1',
      [c.client.clientId],
    );
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.secret_hash).not.toContain(c.clientSecret.slice(4));
  });

  it('lists clients page by page with cursors, per project, with a total', async () => {
    const project = (
      (await a.graphql('mutation { createProject(name: "paging") { id } }', adminToken)).body.data!
        .createProject as { id: string }
    ).id;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createClient({ projectId: project })).client.id);
    const page = async (after?: string) =>
      (
        await a.graphql(
          'query($p: ID, $after: String) { clients(first: 2, after: $after, projectId: $p) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }',
          adminToken,
          { p: project, after },
        )
      ).body.data!.clients as {
        totalCount: number;
        edges: { node: { id: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const p = await page(after);
      expect(p.totalCount).toBe(5);
      seen.push(...p.edges.map((e) => e.node.id));
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor!;
    }
    expect(seen).toEqual(ids);
    const bad = await a.graphql(
      '{ clients(after: "bm90LWEtY3Vyc29y") { totalCount } }',
      adminToken,
    );
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const tooMany = await a.graphql('{ clients(first: 101) { totalCount } }', adminToken);
    expect(tooMany.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('client administration is for admins only', async () => {
    const user = await idp.login('plain-user');
    const res = await a.graphql(CREATE_CLIENT, user, {
      input: { name: 'x', grantTypes: ['CLIENT_CREDENTIALS'], scopes: [] },
    });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const list = await a.graphql('{ clients { totalCount } }', user);
    expect(list.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('never accepts a JWT it signed without typ at+jwt (e.g. an ID token) as an access token', async () => {
    const c = await createClient({});
    const now = Math.floor(Date.now() / 1000);
    const { token } = await a.app.get(SigningKeysService).sign(
      {
        iss: a.url,
        aud: a.url,
        sub: c.client.clientId,
        client_id: c.client.clientId,
        jti: 'id-token-like',
        iat: now,
        exp: now + 60,
      },
      'JWT',
    );
    expect(await status(a, token)).toBe(401);
  });

  it('logout ends the session of a Bridgekeeper token, and is refused for an external one', async () => {
    const c = await createClient({});
    const token = (await oidc.clientCredentialsGrant(await discover(c))).access_token;
    const res = await fetch(`${a.url}/oauth2/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(await status(a, token)).toBe(401);
    const external = await fetch(`${a.url}/oauth2/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await idp.login('ext-user')}` },
    });
    expect(external.status).toBe(400);
    const anonymous = await fetch(`${a.url}/oauth2/logout`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
  });

  it('revokeSessions ends every session of an actor, and is for admins only', async () => {
    const c = await createClient({});
    const token = (await oidc.clientCredentialsGrant(await discover(c))).access_token;
    const forbidden = await a.graphql(
      'mutation($id: ID!) { revokeSessions(actorId: $id) }',
      await idp.login('nobody'),
      { id: c.client.actorId },
    );
    expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const res = await a.graphql('mutation($id: ID!) { revokeSessions(actorId: $id) }', adminToken, {
      id: c.client.actorId,
    });
    expect(res.body.errors).toBeUndefined();
    await waitFor(
      'both nodes to refuse the ended session',
      async () => (await status(a, token)) === 401 && (await status(b, token)) === 401,
      5_000,
    );
    // A token issued after the revocation works again.
    await new Promise((r) => setTimeout(r, 1100));
    const next = (await oidc.clientCredentialsGrant(await discover(c))).access_token;
    expect(await status(a, next)).toBe(200);
  });

  it('deletes revocations and grants once nothing they cover can be used, and keeps the others', async () => {
    const c = await createClient({});
    await query(
      a.databaseUrl,
      `INSERT INTO revocations (kind, value, revoked_at, expires_at) VALUES
         ('token', 'purge-old', now() - interval '3 hours', now() - interval '2 hours'),
         ('token', 'purge-live', now(), now() + interval '1 hour')`,
    );
    await query(
      a.databaseUrl,
      `INSERT INTO oauth_grants (client_id, actor_id, scope, expires_at) VALUES
         ($1, $2, '{api}', now() - interval '2 days'), ($1, $2, '{api}', now() + interval '1 day')`,
      [c.client.clientId, c.client.actorId],
    );
    expect(await a.app.get(RevocationService).purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await a.app.get(GrantsService).purgeExpired()).toBeGreaterThanOrEqual(1);
    const revocations = await query<{ value: string }>(
      a.databaseUrl,
      "SELECT value FROM revocations WHERE value LIKE 'purge-%'",
    );
    expect(revocations.map((r) => r.value)).toEqual(['purge-live']);
    const grants = await query(a.databaseUrl, 'SELECT id FROM oauth_grants WHERE client_id = $1', [
      c.client.clientId,
    ]);
    expect(grants).toHaveLength(1);
  });

  it('a project-scoped ADMIN client administers its project only, never the server', async () => {
    const mk = async (name: string) =>
      (
        (
          await a.graphql('mutation($n: String!) { createProject(name: $n) { id } }', adminToken, {
            n: name,
          })
        ).body.data!.createProject as { id: string }
      ).id;
    const [mine, other] = [await mk('scoped-mine'), await mk('scoped-other')];
    const c = await createClient({ roles: ['ADMIN'], projectId: mine });
    const token = (await oidc.clientCredentialsGrant(await discover(c))).access_token;
    expect(decodeJwt(token).project).toBe(mine);
    const serverWide = await a.graphql('{ clients { totalCount } }', token);
    expect(serverWide.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const actors = await a.graphql('{ actors { totalCount } }', token);
    expect(actors.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const projects = await a.graphql('{ projects { id } }', token);
    expect(projects.body.data?.projects).toEqual([{ id: mine }]);
    const own = await a.graphql('query($id: ID!) { project(id: $id) { id } }', token, { id: mine });
    expect(own.body.data?.project).toEqual({ id: mine });
    const foreign = await a.graphql('query($id: ID!) { project(id: $id) { id } }', token, {
      id: other,
    });
    expect(foreign.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const me = await a.graphql('{ me { roles } }', token);
    expect(me.body.data?.me).toEqual({ roles: [] });
  });

  it('a project-scoped client introspects only its own tokens and its project’s', async () => {
    const project = (
      (await a.graphql('mutation { createProject(name: "introspect-scope") { id } }', adminToken))
        .body.data!.createProject as { id: string }
    ).id;
    const scoped = await createClient({ projectId: project });
    const sibling = await createClient({ projectId: project });
    const global = await createClient({});
    const globalToken = (await oidc.clientCredentialsGrant(await discover(global))).access_token;
    const siblingToken = (await oidc.clientCredentialsGrant(await discover(sibling))).access_token;
    const config = await discover(scoped);
    expect(await oidc.tokenIntrospection(config, globalToken)).toEqual({ active: false });
    expect(await oidc.tokenIntrospection(config, siblingToken)).toMatchObject({ active: true });
    // A client without a project (a resource server for everyone) still sees both.
    expect(await oidc.tokenIntrospection(await discover(global), siblingToken)).toMatchObject({
      active: true,
    });
  });

  it('counts token requests by grant type and outcome, never with what the caller sent', async () => {
    const c = await createClient({});
    const name = 'bridgekeeper_oauth_token_requests_total';
    const issued = await counter(a, name, { grant_type: 'client_credentials', outcome: 'issued' });
    const refused = await counter(a, name, {
      grant_type: 'other',
      outcome: 'unsupported_grant_type',
    });
    await oidc.clientCredentialsGrant(await discover(c));
    await tokenRequest(
      { grant_type: 'urn:evil:injected"label' },
      basic(c.client.clientId, c.clientSecret),
    );
    expect(await counter(a, name, { grant_type: 'client_credentials', outcome: 'issued' })).toBe(
      issued + 1,
    );
    expect(await counter(a, name, { grant_type: 'other', outcome: 'unsupported_grant_type' })).toBe(
      refused + 1,
    );
    expect(await (await a.get('/metrics')).text()).not.toContain('urn:evil');
  });
});
