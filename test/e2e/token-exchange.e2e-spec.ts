import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { AuditService } from 'src/audit/audit.service';
import { type RunningBridgekeeper, startTwoNodes } from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';
import { OidcIdp } from '../support/oidc-provider';
import { waitFor } from '../support/ports';
import { query } from '../support/postgres';
import { type RedisServer, startRedis } from '../support/redis';

// Issue 4 §2: token exchange (RFC 8693), rotating refresh tokens with reuse detection, on-behalf-of for
// admin clients, and userinfo credentials. Real servers: an OpenID provider, a JWKS stub issuer, and
// two Bridgekeeper nodes sharing PostgreSQL and Redis; openid-client as the relying party.
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const PARTNER_AUD = 'bridgekeeper-partner';

interface CreatedClient {
  client: { id: string; clientId: string; actorId: string };
  clientSecret: string;
}

const CREATE_CLIENT = `mutation($input: CreateClientInput!) {
  createClient(input: $input) { client { id clientId actorId } clientSecret }
}`;

describe('token exchange, refresh, on-behalf-of and userinfo credentials', () => {
  let idp: OidcIdp;
  let partner: JwksStub;
  let redis: RedisServer;
  let a: RunningBridgekeeper;
  let b: RunningBridgekeeper;
  let adminToken: string;

  beforeAll(async () => {
    [idp, partner, redis] = await Promise.all([OidcIdp.start(), JwksStub.start(), startRedis()]);
    const issuers = [
      { name: 'idp', issuer: idp.issuer, jwks: idp.jwksUrl, audiences: idp.audience },
      { name: 'partner', issuer: partner.issuer, jwks: partner.jwksUrl, audiences: PARTNER_AUD },
    ];
    const properties = {
      'bridgekeeper.auth.jwt.trusted.issuer.partner.email.matching': 'true',
      'bridgekeeper.auth.jwt.trusted.issuer.partner.userinfo.credentials': 'true',
    };
    [a, b] = await startTwoNodes({
      issuers,
      admins: ['idp:root'],
      redisUrl: redis.url,
      properties,
    });
    adminToken = await idp.login('root');
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await Promise.all([idp?.stop(), partner?.stop(), redis?.stop()]);
  });

  async function createClient(input: Record<string, unknown>): Promise<CreatedClient> {
    const res = await a.graphql(CREATE_CLIENT, adminToken, {
      input: {
        name: 'app',
        grantTypes: ['TOKEN_EXCHANGE'],
        scopes: ['api', 'read'],
        exchangeIssuers: ['idp'],
        ...input,
      },
    });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.createClient as CreatedClient;
  }

  async function createProject(name: string): Promise<string> {
    const res = await a.graphql(
      'mutation($n: String!) { createProject(name: $n) { id } }',
      adminToken,
      {
        n: name,
      },
    );
    expect(res.body.errors).toBeUndefined();
    return (res.body.data?.createProject as { id: string }).id;
  }

  async function invite(projectId: string, body: Record<string, unknown>): Promise<string> {
    const res = await a.post(
      `/admin/projects/${projectId}/invite`,
      { resourceType: 'Practitioner', firstName: 'Jo', lastName: 'Doe', ...body },
      adminToken,
    );
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  function discover(c: CreatedClient): Promise<oidc.Configuration> {
    return oidc.discovery(
      new URL(a.url),
      c.client.clientId,
      undefined,
      oidc.ClientSecretBasic(c.clientSecret),
      { execute: [oidc.allowInsecureRequests] },
    );
  }

  async function exchange(
    c: CreatedClient,
    subjectToken: string,
    extra: Record<string, string> = {},
  ) {
    return oidc.genericGrantRequest(await discover(c), EXCHANGE, {
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      ...extra,
    });
  }

  /** A raw token request, for the refusals (their exact error bodies). */
  async function tokenRequest(c: CreatedClient, form: Record<string, string>) {
    const res = await fetch(`${a.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${c.client.clientId}:${c.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams(form).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const exchangeForm = (subjectToken: string, extra: Record<string, string> = {}) => ({
    grant_type: EXCHANGE,
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    ...extra,
  });

  async function userinfo(node: RunningBridgekeeper, token: string, headers = {}) {
    const res = await node.get('/oauth2/userinfo', token, headers);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const status = async (node: RunningBridgekeeper, token: string) =>
    (await node.get('/oauth2/userinfo', token)).status;

  /** `{ me { id } }` over GraphQL with extra request headers (project, on-behalf-of). */
  async function meWith(node: RunningBridgekeeper, token: string, headers: Record<string, string>) {
    const res = await fetch(`${node.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    const body = (await res.json()) as {
      data?: { me: { id: string } } | null;
      errors?: { message: string; extensions?: { code?: string } }[];
    };
    return { status: res.status, challenge: res.headers.get('www-authenticate'), body };
  }

  it('exchanges an IdP token for a Bridgekeeper token of the same actor, on REST and GraphQL', async () => {
    const c = await createClient({});
    const subject = await idp.login('alice', { email: 'alice@example.com' });
    const direct = await userinfo(a, subject);
    expect(direct.status).toBe(200);

    const tokens = await exchange(c, subject);
    expect(tokens).toMatchObject({
      token_type: 'bearer',
      scope: 'api read',
      issued_token_type: ACCESS_TOKEN_TYPE,
    });
    expect(tokens.refresh_token).toBeUndefined();
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({
      iss: a.url,
      sub: direct.body.sub,
      client_id: c.client.clientId,
    });
    expect(claims.exp!).toBeLessThanOrEqual(decodeJwt(subject).exp!);

    const mine = await userinfo(b, tokens.access_token);
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ sub: direct.body.sub, issuer: 'idp', subject: 'alice' });
    // Our own tokens never carry userinfo credentials.
    expect(mine.body.credentials).toBeUndefined();
    const me = await a.graphql('{ me { id subject } }', tokens.access_token);
    expect(me.body.data?.me).toEqual({ id: direct.body.sub, subject: 'alice' });
    // Neither token ever reaches a log line.
    const logs = a.logs.join('\n');
    expect(logs).not.toContain(subject);
    expect(logs).not.toContain(tokens.access_token);
  });

  it('follows the client’s exchange policy: issuer, grant type, scope, parameters', async () => {
    const c = await createClient({ exchangeIssuers: ['partner'] });
    const idpToken = await idp.login('bob');
    const other = await tokenRequest(c, exchangeForm(idpToken));
    expect(other).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: expect.any(String) as string },
    });
    expect(JSON.stringify(other.body)).not.toContain(idpToken);
    expect(a.logs.join('\n')).toContain('exchange_issuer_not_allowed');

    const allowed = await createClient({});
    const wider = await tokenRequest(allowed, exchangeForm(idpToken, { scope: 'api admin' }));
    expect(wider.body).toMatchObject({ error: 'invalid_scope' });
    const narrow = await tokenRequest(allowed, exchangeForm(idpToken, { scope: 'read' }));
    expect(narrow.body).toMatchObject({ scope: 'read' });
    const offline = await tokenRequest(
      allowed,
      exchangeForm(idpToken, { scope: 'offline_access' }),
    );
    expect(offline.body).toMatchObject({ error: 'invalid_scope' });

    const cases: [Record<string, string>, string][] = [
      [exchangeForm('garbage'), 'invalid_grant'],
      [exchangeForm(`${idpToken}x`), 'invalid_grant'],
      [
        exchangeForm(idpToken, { subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }),
        'invalid_request',
      ],
      [{ grant_type: EXCHANGE, subject_token_type: ACCESS_TOKEN_TYPE }, 'invalid_request'],
      [
        exchangeForm(idpToken, {
          requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token',
        }),
        'invalid_request',
      ],
      [exchangeForm(idpToken, { audience: 'https://elsewhere.example' }), 'invalid_target'],
      [
        // Delegation (RFC 8693 actor_token) needs a client allowed to act for people.
        exchangeForm(idpToken, { actor_token: idpToken, actor_token_type: ACCESS_TOKEN_TYPE }),
        'invalid_grant',
      ],
    ];
    for (const [form, error] of cases) {
      const res = await tokenRequest(allowed, form);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error });
    }
    const jwtType = await tokenRequest(
      allowed,
      exchangeForm(idpToken, {
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        audience: a.url,
      }),
    );
    expect(jwtType.status).toBe(200);

    // Our own token is never exchanged again.
    const own = (await exchange(allowed, idpToken)).access_token;
    expect((await tokenRequest(allowed, exchangeForm(own))).body).toMatchObject({
      error: 'invalid_grant',
    });
    // A client without the grant type.
    const cc = await createClient({ grantTypes: ['CLIENT_CREDENTIALS'] });
    expect((await tokenRequest(cc, exchangeForm(idpToken))).body).toMatchObject({
      error: 'unauthorized_client',
    });
  });

  it('never outlives the subject token', async () => {
    const c = await createClient({ exchangeIssuers: ['partner'], subjectResolution: 'SUBJECT' });
    const subject = await partner.token(PARTNER_AUD, { sub: 'short-lived' }, { expiresIn: 60 });
    const remaining = decodeJwt(subject).exp! - Math.floor(Date.now() / 1000);
    const tokens = await exchange(c, subject);
    expect(tokens.expires_in).toBeLessThanOrEqual(remaining);
    expect(decodeJwt(tokens.access_token).exp).toBeLessThanOrEqual(decodeJwt(subject).exp!);
  });

  it('MEMBERSHIP resolution: a project-scoped client gets the invited member, and only members of its project', async () => {
    const project = await createProject('Exchange clinic');
    const membershipId = await invite(project, { externalId: 'mem-sub', issuer: 'idp' });
    const c = await createClient({ projectId: project });
    const tokens = await exchange(c, await idp.login('mem-sub'));
    expect(decodeJwt(tokens.access_token)).toMatchObject({ membership: membershipId });
    expect((await userinfo(a, tokens.access_token)).body).toMatchObject({
      project,
      membership: membershipId,
    });
    const outsider = await tokenRequest(c, exchangeForm(await idp.login('not-a-member')));
    expect(outsider.body).toMatchObject({ error: 'invalid_grant' });
    // An inactive membership is refused.
    const off = await a.graphql(
      `mutation { setMembershipActive(id: "${membershipId}", active: false) { active } }`,
      adminToken,
    );
    expect(off.body.errors).toBeUndefined();
    expect((await tokenRequest(c, exchangeForm(await idp.login('mem-sub')))).body).toMatchObject({
      error: 'invalid_grant',
    });
    await a.graphql(
      `mutation { setMembershipActive(id: "${membershipId}", active: true) { active } }`,
      adminToken,
    );
  });

  it('SUBJECT resolution: the actor of (issuer, sub)', async () => {
    const c = await createClient({ exchangeIssuers: ['partner'], subjectResolution: 'SUBJECT' });
    const subject = await partner.token(PARTNER_AUD, { sub: 'sam' });
    const direct = await userinfo(a, subject);
    const tokens = await exchange(c, subject);
    expect(decodeJwt(tokens.access_token).sub).toBe(direct.body.sub);
  });

  it('EMAIL resolution: only a verified email of an issuer that allows email matching', async () => {
    const c = await createClient({ exchangeIssuers: ['partner'], subjectResolution: 'EMAIL' });
    const eve = await partner.token(PARTNER_AUD, {
      sub: 'eve',
      email: 'eve@example.com',
      email_verified: true,
    });
    const direct = await userinfo(a, eve);
    expect(direct.status).toBe(200);
    const sameEmail = await partner.token(PARTNER_AUD, {
      sub: 'eve-2',
      email: 'Eve@example.com',
      email_verified: true,
    });
    expect(decodeJwt((await exchange(c, sameEmail)).access_token).sub).toBe(direct.body.sub);

    const unverified = await partner.token(PARTNER_AUD, {
      sub: 'eve-3',
      email: 'eve@example.com',
      email_verified: false,
    });
    expect((await tokenRequest(c, exchangeForm(unverified))).body).toMatchObject({
      error: 'invalid_grant',
    });
    // The idp issuer is not configured for email matching.
    const viaIdp = await createClient({ subjectResolution: 'EMAIL' });
    const idpToken = await idp.login('eve-idp', { email: 'eve@example.com', email_verified: true });
    expect((await tokenRequest(viaIdp, exchangeForm(idpToken))).body).toMatchObject({
      error: 'invalid_grant',
    });

    // With a project: the membership invited by that email, linked on first use.
    const project = await createProject('Email clinic');
    const membershipId = await invite(project, { email: 'pat@example.com' });
    const scoped = await createClient({
      exchangeIssuers: ['partner'],
      subjectResolution: 'EMAIL',
      projectId: project,
    });
    const pat = await partner.token(PARTNER_AUD, {
      sub: 'pat',
      email: 'pat@example.com',
      email_verified: true,
    });
    const tokens = await exchange(scoped, pat);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ membership: membershipId });
    expect((await userinfo(a, tokens.access_token)).body).toMatchObject({
      membership: membershipId,
      subject: 'pat',
    });
    const stranger = await partner.token(PARTNER_AUD, {
      sub: 'x',
      email: 'nobody@example.com',
      email_verified: true,
    });
    expect((await tokenRequest(scoped, exchangeForm(stranger))).body).toMatchObject({
      error: 'invalid_grant',
    });
  });

  describe('refresh tokens', () => {
    const refreshing = {
      grantTypes: ['TOKEN_EXCHANGE', 'REFRESH_TOKEN'],
      scopes: ['api', 'offline_access'],
      subjectResolution: 'SUBJECT',
    };

    it('rotate, refuse another client and a wider scope, and a replay revokes the whole grant on every node', async () => {
      const c = await createClient(refreshing);
      const config = await discover(c);
      const first = await exchange(c, await idp.login('rita'), { scope: 'api offline_access' });
      expect(first.refresh_token).toBeDefined();
      expect(decodeJwt(first.access_token).sid).toEqual(expect.any(String));

      const second = await oidc.refreshTokenGrant(config, first.refresh_token!);
      expect(second.refresh_token).toBeDefined();
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(await status(b, second.access_token)).toBe(200);

      // A wider scope is refused and does not use the refresh token up.
      const wider = await tokenRequest(c, {
        grant_type: 'refresh_token',
        refresh_token: second.refresh_token!,
        scope: 'api admin',
      });
      expect(wider.body).toMatchObject({ error: 'invalid_scope' });
      // Another client cannot use it (and does not revoke it).
      const other = await createClient(refreshing);
      const foreign = await tokenRequest(other, {
        grant_type: 'refresh_token',
        refresh_token: second.refresh_token!,
      });
      expect(foreign.body).toMatchObject({ error: 'invalid_grant' });
      const third = await oidc.refreshTokenGrant(config, second.refresh_token!, { scope: 'api' });
      expect(third.scope).toBe('api');
      expect(await status(b, third.access_token)).toBe(200);

      // The first refresh token again: a replay. The grant ends: the newest refresh token and every
      // access token of the grant, on both nodes.
      await expect(oidc.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      await expect(oidc.refreshTokenGrant(config, third.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      expect(await status(a, third.access_token)).toBe(401);
      await waitFor(
        'node B to refuse the revoked grant’s access tokens',
        async () =>
          (await status(b, third.access_token)) === 401 &&
          (await status(b, second.access_token)) === 401,
        5_000,
      );
      expect(a.logs.join('\n')).not.toContain(first.refresh_token!);
    });

    it('updateClient narrows scopes for existing grants at their next refresh, and enableClient restores a disabled client', async () => {
      const c = await createClient({ ...refreshing, scopes: ['api', 'read', 'offline_access'] });
      const first = await exchange(c, await idp.login('nora'), {
        scope: 'api read offline_access',
      });
      const updated = await a.graphql(
        'mutation($id: ID!, $input: UpdateClientInput!) { updateClient(id: $id, input: $input) { scopes grantTypes } }',
        adminToken,
        { id: c.client.id, input: { scopes: ['api', 'offline_access'] } },
      );
      expect(updated.body.data?.updateClient).toEqual({
        scopes: ['api', 'offline_access'],
        grantTypes: ['TOKEN_EXCHANGE', 'REFRESH_TOKEN'],
      });
      const refreshed = await oidc.refreshTokenGrant(await discover(c), first.refresh_token!);
      expect(refreshed.scope?.split(' ').sort()).toEqual(['api', 'offline_access']);
      const asking = await tokenRequest(c, {
        grant_type: 'refresh_token',
        refresh_token: refreshed.refresh_token!,
        scope: 'read',
      });
      expect(asking.body).toMatchObject({ error: 'invalid_scope' });
      // A policy that breaks the rules is refused like at creation.
      const broken = await a.graphql(
        'mutation($id: ID!, $input: UpdateClientInput!) { updateClient(id: $id, input: $input) { id } }',
        adminToken,
        { id: c.client.id, input: { scopes: ['api'] } },
      );
      expect(broken.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

      const disabled = await a.graphql(
        'mutation($id: ID!) { disableClient(id: $id) { status } }',
        adminToken,
        { id: c.client.id },
      );
      expect(disabled.body.data?.disableClient).toEqual({ status: 'DISABLED' });
      expect(await status(a, refreshed.access_token)).toBe(401);
      const enabled = await a.graphql(
        'mutation($id: ID!) { enableClient(id: $id) { status } }',
        adminToken,
        { id: c.client.id },
      );
      expect(enabled.body.data?.enableClient).toEqual({ status: 'ACTIVE' });
      // Its earlier tokens stay revoked, refresh tokens included; new ones work.
      expect(await status(a, refreshed.access_token)).toBe(401);
      await expect(
        oidc.refreshTokenGrant(await discover(c), refreshed.refresh_token!),
      ).rejects.toMatchObject({ error: 'invalid_grant' });
      await new Promise((r) => setTimeout(r, 1100));
      const fresh = await exchange(c, await idp.login('nora'));
      expect(await status(a, fresh.access_token)).toBe(200);
    });

    it('never takes a refresh token for an access token, or an access token for a refresh token (rule 10)', async () => {
      const c = await createClient(refreshing);
      const tokens = await exchange(c, await idp.login('tess'), { scope: 'api offline_access' });
      const asBearer = await a.get('/oauth2/userinfo', tokens.refresh_token!);
      expect(asBearer.status).toBe(401);
      expect(asBearer.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      const asRefresh = await tokenRequest(c, {
        grant_type: 'refresh_token',
        refresh_token: tokens.access_token,
      });
      expect(asRefresh.body).toMatchObject({ error: 'invalid_grant' });
      // Neither attempt hurt the grant.
      expect(await status(a, tokens.access_token)).toBe(200);
      const next = await oidc.refreshTokenGrant(await discover(c), tokens.refresh_token!);
      expect(next.access_token).toEqual(expect.any(String));
    });

    it('a refreshed access token keeps the project claim of the exchanged one (issue 12 bug 3)', async () => {
      const project = await createProject('Refresh clinic');
      const membershipId = await invite(project, { externalId: 'refresh-member', issuer: 'idp' });
      const c = await createClient({ ...refreshing, subjectResolution: 'MEMBERSHIP' });
      const first = await exchange(c, await idp.login('refresh-member'), {
        scope: 'api offline_access',
      });
      expect(decodeJwt(first.access_token)).toMatchObject({ membership: membershipId, project });
      const refreshed = await oidc.refreshTokenGrant(await discover(c), first.refresh_token!);
      const claims = decodeJwt(refreshed.access_token);
      expect(claims).toMatchObject({ membership: membershipId, project });
      expect(claims.project).toBe(decodeJwt(first.access_token).project);
      expect((await userinfo(b, refreshed.access_token)).body).toMatchObject({
        project,
        membership: membershipId,
      });
    });

    it('revoking a refresh token ends the grant’s access tokens', async () => {
      const c = await createClient(refreshing);
      const tokens = await exchange(c, await idp.login('rob'), { scope: 'api offline_access' });
      expect(await status(a, tokens.access_token)).toBe(200);
      await oidc.tokenRevocation(await discover(c), tokens.refresh_token!);
      expect(await status(a, tokens.access_token)).toBe(401);
      await waitFor(
        'node B to refuse the access token of the revoked grant',
        async () => (await status(b, tokens.access_token)) === 401,
        5_000,
      );
      await expect(
        oidc.refreshTokenGrant(await discover(c), tokens.refresh_token!),
      ).rejects.toMatchObject({ error: 'invalid_grant' });
    });
  });

  describe('X-Bridgekeeper-Project naming a project the caller is not in (issue 12 bug 7)', () => {
    const NOT_IN_PROJECT = {
      error: 'forbidden',
      error_description: 'You are not a member of the project named by X-Bridgekeeper-Project',
    };
    let mine: string;
    let other: string;
    let memberToken: string;

    beforeAll(async () => {
      mine = await createProject('Header clinic');
      other = await createProject('Someone else’s clinic');
      await invite(mine, { externalId: 'header-member', issuer: 'idp' });
      memberToken = await idp.login('header-member');
    });

    const project = (id: string) => ({ 'x-bridgekeeper-project': id });

    it('tells a valid external token it is not a member (403), the same whether the project exists or not', async () => {
      expect((await userinfo(a, memberToken, project(mine))).status).toBe(200);
      const stranger = await idp.login('header-stranger');
      for (const [token, projectId] of [
        [memberToken, other],
        [memberToken, randomUUID()],
        [stranger, mine],
        [stranger, randomUUID()],
      ]) {
        const res = await a.get('/oauth2/userinfo', token, project(projectId));
        expect(res.status).toBe(403);
        expect(res.headers.get('www-authenticate')).toBeNull();
        expect(await res.json()).toEqual(NOT_IN_PROJECT);
        const gql = await meWith(a, token, project(projectId));
        expect(gql.status).toBe(403);
        expect(gql.challenge).toBeNull();
        expect(gql.body.data ?? null).toBeNull();
        expect(gql.body.errors?.[0]).toMatchObject({
          message: NOT_IN_PROJECT.error_description,
          extensions: { code: 'FORBIDDEN' },
        });
      }
      // A header that is no project id at all stays a 400; an invalid token stays a 401.
      expect((await userinfo(a, memberToken, project('not-a-uuid'))).status).toBe(400);
      expect((await userinfo(a, `${memberToken}x`, project(other))).status).toBe(401);
    });

    it('says the same for our own tokens: the header may only confirm the token’s project', async () => {
      const c = await createClient({});
      const own = (await exchange(c, memberToken)).access_token;
      expect(decodeJwt(own)).toMatchObject({ project: mine });
      expect((await userinfo(b, own, project(mine))).status).toBe(200);
      for (const projectId of [other, randomUUID()]) {
        const res = await b.get('/oauth2/userinfo', own, project(projectId));
        expect(res.status).toBe(403);
        expect(await res.json()).toEqual(NOT_IN_PROJECT);
        const gql = await meWith(a, own, project(projectId));
        expect(gql.status).toBe(403);
        expect(gql.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      }
      // A client-credentials token of a project-scoped client: its own project is confirmed.
      const scoped = await createClient({ grantTypes: ['CLIENT_CREDENTIALS'], projectId: mine });
      const cc = (await oidc.clientCredentialsGrant(await discover(scoped))).access_token;
      expect((await userinfo(a, cc, project(mine))).status).toBe(200);
      expect((await a.get('/oauth2/userinfo', cc, project(other))).status).toBe(403);
    });

    it('a project-scoped exchange of a non-member is still the client’s invalid_grant', async () => {
      const c = await createClient({ projectId: other, subjectResolution: 'SUBJECT' });
      const res = await tokenRequest(c, exchangeForm(memberToken));
      expect(res).toEqual({
        status: 400,
        body: { error: 'invalid_grant', error_description: 'The subject token is invalid' },
      });
    });
  });

  describe('on behalf of a member', () => {
    let project: string;
    let membershipId: string;
    let memberActorId: string;

    beforeAll(async () => {
      project = await createProject('OBO clinic');
      membershipId = await invite(project, { externalId: 'obo-member', issuer: 'idp' });
      // The member signs in once, which links the membership to her actor.
      const first = await userinfo(a, await idp.login('obo-member'));
      expect(first.body.membership).toBe(membershipId);
      memberActorId = first.body.sub as string;
    });

    async function clientToken(input: Record<string, unknown>) {
      const c = await createClient({ grantTypes: ['CLIENT_CREDENTIALS'], ...input });
      const token = (await oidc.clientCredentialsGrant(await discover(c))).access_token;
      return { c, token };
    }

    const obo = (id: string) => ({ 'x-bridgekeeper-on-behalf-of': id });

    it('lets an admin client act as the member, and records both', async () => {
      const { c, token } = await clientToken({ roles: ['ADMIN'] });
      const res = await userinfo(a, token, obo(membershipId));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        sub: memberActorId,
        membership: membershipId,
        project,
        act: { sub: c.client.actorId, client_id: c.client.clientId },
      });
      const gql = await meWith(b, token, obo(membershipId));
      expect(gql.body.data?.me.id).toBe(memberActorId);
      const line = a.logs.find((l) => l.includes('acting on behalf of a member'));
      expect(line).toContain(c.client.actorId);
      expect(line).toContain(memberActorId);
      expect(line).not.toContain(token);
      // Without the header it is the client itself.
      expect((await userinfo(a, token)).body.sub).toBe(c.client.actorId);
      // Unknown, and not-yet-linked memberships.
      expect((await userinfo(a, token, obo(randomUUID()))).status).toBe(404);
      const unlinked = await invite(project, { externalId: 'never-signed-in', issuer: 'idp' });
      expect((await userinfo(a, token, obo(unlinked))).status).toBe(403);
    });

    it('a project-scoped admin client only acts for members of its project', async () => {
      const elsewhere = await createProject('Other clinic');
      const { token } = await clientToken({ roles: ['ADMIN'], projectId: elsewhere });
      expect((await userinfo(a, token, obo(membershipId))).status).toBe(403);
      const { token: own } = await clientToken({ roles: ['ADMIN'], projectId: project });
      expect((await userinfo(a, own, obo(membershipId))).body.sub).toBe(memberActorId);
    });

    it('refuses non-admin clients and external tokens', async () => {
      const { token } = await clientToken({});
      expect((await userinfo(a, token, obo(membershipId))).status).toBe(403);
      // Even a server admin's IdP token cannot use the header.
      expect((await userinfo(a, adminToken, obo(membershipId))).status).toBe(403);
      const gql = await meWith(a, token, obo(membershipId));
      expect(gql.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });
  });

  it('userinfo credentials: only for the switched-on issuer, and the minted token works', async () => {
    const subject = await partner.token(PARTNER_AUD, { sub: 'cred-user' }, { expiresIn: 120 });
    const res = await userinfo(a, subject);
    expect(res.status).toBe(200);
    const credentials = res.body.credentials as {
      access_token: string;
      token_type: string;
      expires_in: number;
      scope: string;
    };
    expect(credentials).toMatchObject({ token_type: 'Bearer', scope: 'openid profile email' });
    expect(credentials.expires_in).toBeLessThanOrEqual(120);
    expect(decodeJwt(credentials.access_token)).toMatchObject({
      sub: res.body.sub,
      client_id: 'bridgekeeper',
    });
    expect(decodeJwt(credentials.access_token).exp).toBeLessThanOrEqual(decodeJwt(subject).exp!);
    const mine = await userinfo(b, credentials.access_token);
    expect(mine.status).toBe(200);
    expect(mine.body.sub).toBe(res.body.sub);
    expect(mine.body.credentials).toBeUndefined();

    const idpUser = await userinfo(a, await idp.login('no-credentials'));
    expect(idpUser.status).toBe(200);
    expect(idpUser.body.credentials).toBeUndefined();
  });
  // Issue 13 §4: what the tests above did is in the audit log (security events, written in batches).
  it('audited the exchanges, the refresh-token replay and the on-behalf-of calls, with the act chain', async () => {
    await Promise.all([a.app.get(AuditService).flush(), b.app.get(AuditService).flush()]);
    const rows = await query<{
      action: string;
      outcome: string;
      actor_id: string | null;
      client_id: string | null;
      act: { sub: string; client_id: string }[] | null;
    }>(
      a.databaseUrl,
      "SELECT action, outcome, actor_id, client_id, act FROM audit_events WHERE action IN ('token.exchange', 'refresh_token.reuse', 'on_behalf_of.use')",
    );
    const byAction = (action: string) => rows.filter((r) => r.action === action);
    expect(byAction('token.exchange').length).toBeGreaterThan(0);
    expect(byAction('token.exchange')[0]).toMatchObject({
      outcome: 'SUCCESS',
      actor_id: expect.any(String) as string,
      client_id: expect.stringMatching(/^bkc_/) as string,
    });
    expect(byAction('refresh_token.reuse')[0]).toMatchObject({ outcome: 'FAILURE' });
    const obo = byAction('on_behalf_of.use');
    expect(obo.length).toBeGreaterThan(0);
    expect(obo[0]!.act).toEqual([
      { sub: expect.any(String) as string, client_id: obo[0]!.client_id },
    ]);
    expect(obo[0]!.act![0]!.sub).not.toBe(obo[0]!.actor_id);
  });
});
