import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import { ActorsService } from 'src/actors/actors.service';
import { AppError } from 'src/common/errors/app-error';
import { IdentityService } from 'src/identity/identity.service';
import { type RunningBridgekeeper, startBridgekeeper } from '../support/bridgekeeper';
import { TestBrowser } from '../support/browser';
import { gqlData } from '../support/gql-ops';
import { OidcIdp } from '../support/oidc-provider';

// Issue 11 §1 and §4: RFC 8693 delegation. An agent (a client allowed to act for people) exchanges a
// person's Bridgekeeper token with its own token as actor_token: the result's `sub` is the person and
// `act` the agent (nested when delegated again), visible in userinfo, introspection, the viewer query
// and the logs; it can only narrow the scope and stops working once the person (or agent) is disabled.
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const PASSWORD = 'delegating person passphrase';
const REDIRECT = 'http://127.0.0.1:53123/cb';
const CREATE_CLIENT = `mutation($input: CreateClientInput!) {
  createClient(input: $input) { client { clientId actorId } clientSecret }
}`;

interface Agent {
  clientId: string;
  secret: string;
  actorId: string;
}

describe('delegation: token exchange with actor_token (RFC 8693)', () => {
  let idp: OidcIdp;
  let bk: RunningBridgekeeper;
  let adminToken: string;
  let aliceId: string;
  let app: string;
  let agent: Agent;
  let second: Agent;
  let plain: Agent;

  beforeAll(async () => {
    idp = await OidcIdp.start();
    bk = await startBridgekeeper({
      issuers: [{ name: 'idp', issuer: idp.issuer, jwks: idp.jwksUrl, audiences: idp.audience }],
      admins: ['idp:root'],
    });
    adminToken = await idp.login('root');
    ({ actorId: aliceId } = await bk.app
      .get(LocalAccountsService)
      .create({ username: 'alice', password: PASSWORD }));
    const res = await createClient({
      name: 'editor',
      grantTypes: ['AUTHORIZATION_CODE'],
      scopes: ['openid', 'reports', 'files'],
      tokenEndpointAuthMethod: 'NONE',
      redirectUris: ['http://127.0.0.1/cb'],
    });
    app = res.clientId;
    const agentInput = (name: string, exchangeIssuers: string[]) => ({
      name,
      grantTypes: ['CLIENT_CREDENTIALS', 'TOKEN_EXCHANGE'],
      scopes: ['agent'],
      exchangeIssuers,
    });
    agent = await createClient(agentInput('research agent', ['bridgekeeper']));
    second = await createClient(agentInput('sub-agent', ['bridgekeeper']));
    plain = await createClient(agentInput('exchanger', ['idp']));
  });

  afterAll(async () => {
    await bk?.close();
    await idp?.stop();
  });

  async function createClient(input: Record<string, unknown>): Promise<Agent> {
    const res = await bk.graphql(CREATE_CLIENT, adminToken, { input });
    expect(res.body.errors).toBeUndefined();
    const c = res.body.data!.createClient as {
      client: { clientId: string; actorId: string };
      clientSecret: string;
    };
    return { clientId: c.client.clientId, secret: c.clientSecret, actorId: c.client.actorId };
  }

  async function token(client: Agent, form: Record<string, string>) {
    const res = await fetch(`${bk.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams(form).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  }

  const ownToken = async (client: Agent) =>
    (await token(client, { grant_type: 'client_credentials' })).body.access_token;

  /** Alice signs in to the editor app (code + PKCE); its access token. */
  async function personToken(scope = 'openid reports files', resource?: string): Promise<string> {
    const browser = new TestBrowser(bk.url);
    const verifier = oidc.randomPKCECodeVerifier();
    const q = new URLSearchParams({
      client_id: app,
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    if (resource) q.set('resource', resource);
    const first = await browser.get(`/oauth2/authorize?${q.toString()}`);
    const posted = await browser.submit(first.headers.get('location')!, {
      username: 'alice',
      password: PASSWORD,
    });
    const back = await browser.get(posted.headers.get('location')!);
    const code = new URL(back.headers.get('location')!).searchParams.get('code')!;
    const res = await fetch(`${bk.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: app,
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      }).toString(),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  }

  const delegate = (client: Agent, subject: string, actor: string, extra = {}) =>
    token(client, {
      grant_type: EXCHANGE,
      subject_token: subject,
      subject_token_type: AT,
      actor_token: actor,
      actor_token_type: AT,
      ...extra,
    });

  it('issues a token whose sub is the person and act the agent, never outliving the subject token', async () => {
    const subject = await personToken();
    const res = await delegate(agent, subject, await ownToken(agent));
    expect(res.status).toBe(200);
    expect(res.body.issued_token_type).toBe(AT);
    expect(res.body.refresh_token).toBeUndefined();
    expect(res.body.scope).toBe('openid reports files');
    const claims = decodeJwt(res.body.access_token);
    const original = decodeJwt(subject);
    expect(claims.sub).toBe(aliceId);
    expect(claims.client_id).toBe(agent.clientId);
    expect(claims.act).toEqual({ sub: agent.clientId, client_id: agent.clientId });
    expect(claims.exp).toBeLessThanOrEqual(original.exp!);
    expect(claims.aud).toBe(bk.config.oauth.audience);

    // Visible in userinfo, introspection, the viewer query and the log.
    const me = await bk.get('/oauth2/userinfo', res.body.access_token);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      sub: aliceId,
      act: { sub: agent.clientId, client_id: agent.clientId },
    });
    const intro = await fetch(`${bk.url}/oauth2/introspect`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${agent.clientId}:${agent.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: res.body.access_token }).toString(),
    });
    expect(await intro.json()).toMatchObject({
      active: true,
      sub: aliceId,
      client_id: agent.clientId,
      act: { sub: agent.clientId, client_id: agent.clientId },
    });
    const viewer = await bk.graphql(
      '{ viewer { actor { id } act { sub clientId act { sub } } } }',
      res.body.access_token,
    );
    expect(viewer.body.data).toEqual({
      viewer: {
        actor: { id: aliceId },
        act: { sub: agent.clientId, clientId: agent.clientId, act: null },
      },
    });
    const line = bk.logs.find((l) => l.includes('"token delegated"'))!;
    expect(JSON.parse(line)).toMatchObject({
      actorId: aliceId,
      clientId: agent.clientId,
      act: { sub: agent.clientId, client_id: agent.clientId },
    });
    for (const l of bk.logs) {
      expect(l).not.toContain(res.body.access_token);
      expect(l).not.toContain(subject);
    }
  });

  it('can only narrow the scope', async () => {
    const subject = await personToken('openid reports');
    const actor = await ownToken(agent);
    const narrowed = await delegate(agent, subject, actor, { scope: 'reports' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('reports');
    for (const scope of ['reports files', 'agent', 'reports offline_access']) {
      const res = await delegate(agent, subject, actor, { scope });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_scope');
    }
    // A narrowed token delegated again cannot get the wider scope back.
    const again = await delegate(second, narrowed.body.access_token, await ownToken(second), {
      scope: 'openid reports',
    });
    expect(again.body.error).toBe('invalid_scope');
  });

  it('nests act when delegated again', async () => {
    const first = await delegate(agent, await personToken(), await ownToken(agent));
    const res = await delegate(second, first.body.access_token, await ownToken(second), {
      scope: 'reports',
    });
    expect(res.status).toBe(200);
    const act = {
      sub: second.clientId,
      client_id: second.clientId,
      act: { sub: agent.clientId, client_id: agent.clientId },
    };
    expect(decodeJwt(res.body.access_token)).toMatchObject({ sub: aliceId, act });
    expect(await (await bk.get('/oauth2/userinfo', res.body.access_token)).json()).toMatchObject({
      act,
    });
  });

  it('keeps the subject token’s resource: an MCP token delegated is an MCP token', async () => {
    const subject = await personToken('mcp:read', `${bk.url}/mcp`);
    const res = await delegate(agent, subject, await ownToken(agent));
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).aud).toBe(`${bk.url}/mcp`);
    const p = await bk.app
      .get(IdentityService)
      .authenticateRequest(
        { headers: { authorization: `Bearer ${res.body.access_token}` } },
        'mcp',
      );
    expect(p.actor.id).toBe(aliceId);
    expect(p.own?.act?.sub).toBe(agent.clientId);
    const other = await delegate(agent, subject, await ownToken(agent), {
      resource: 'https://evil.example.com/',
    });
    expect(other.body.error).toBe('invalid_target');
  });

  it('lets an agent call /mcp for the person with the official SDK: whoami and the audit log name both', async () => {
    const subject = await personToken('mcp:read', `${bk.url}/mcp`);
    const delegated = (await delegate(agent, subject, await ownToken(agent))).body.access_token;
    const mcp = new Client({ name: 'delegating-agent', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${bk.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${delegated}` } },
      }),
    );
    try {
      // Alice is no admin: her own tools only, whatever the agent could do with its own token.
      const tools = (await mcp.listTools()).tools.map((t) => t.name);
      expect(tools).toContain('whoami');
      expect(tools).not.toContain('disable_actor');
      const who = (await mcp.callTool({ name: 'whoami', arguments: {} })).structuredContent as {
        actor: { id: string };
        act?: { sub: string; client_id: string };
      };
      expect(who.actor.id).toBe(aliceId);
      expect(who.act).toEqual({ sub: agent.clientId, client_id: agent.clientId });
    } finally {
      await mcp.close();
    }
    // Attributable: the tool call is Alice's, made by the agent's client (security events are written in batches).
    const query = `query($filter: AuditEventFilter) {
      auditEvents(filter: $filter, first: 5) { edges { node { actorId clientId act { sub clientId } targetId } } }
    }`;
    let nodes: { actorId: string; clientId: string; act: unknown[]; targetId: string }[] = [];
    for (let i = 0; i < 50 && nodes.length === 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      const data = await gqlData<{ auditEvents: { edges: { node: (typeof nodes)[0] }[] } }>(
        bk,
        adminToken,
        query,
        { filter: { action: 'mcp.tool_call', actorId: aliceId } },
      );
      nodes = data.auditEvents.edges.map((e) => e.node);
    }
    expect(nodes).toContainEqual({
      actorId: aliceId,
      clientId: agent.clientId,
      act: [{ sub: agent.clientId, clientId: agent.clientId }],
      targetId: 'whoami',
    });
  });

  it('refuses what is not a delegation by an allowed agent of a person', async () => {
    const subject = await personToken();
    const cases: [Agent, Record<string, string>, string][] = [
      // The actor token must be the requesting client's own.
      [
        agent,
        {
          subject_token: subject,
          actor_token: await ownToken(second),
        },
        'invalid_grant',
      ],
      // A client not allowed to act for people (exchangeIssuers without bridgekeeper).
      [plain, { subject_token: subject, actor_token: await ownToken(plain) }, 'invalid_grant'],
      // A client's own token names no person.
      [
        agent,
        { subject_token: await ownToken(second), actor_token: await ownToken(agent) },
        'invalid_grant',
      ],
      // An external token is no Bridgekeeper token, as subject or actor.
      [agent, { subject_token: adminToken, actor_token: await ownToken(agent) }, 'invalid_grant'],
      [agent, { subject_token: subject, actor_token: adminToken }, 'invalid_grant'],
      [agent, { subject_token: subject, actor_token: 'garbage' }, 'invalid_grant'],
    ];
    for (const [client, form, error] of cases) {
      const res = await token(client, {
        grant_type: EXCHANGE,
        subject_token_type: AT,
        actor_token_type: AT,
        ...form,
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe(error);
    }
    const noType = await token(agent, {
      grant_type: EXCHANGE,
      subject_token: subject,
      subject_token_type: AT,
      actor_token: await ownToken(agent),
    });
    expect(noType.body.error).toBe('invalid_request');
  });

  it('stops working when the agent is disabled', async () => {
    const res = await delegate(second, await personToken(), await ownToken(second));
    expect((await bk.get('/oauth2/userinfo', res.body.access_token)).status).toBe(200);
    await bk.app.get(ActorsService).setStatus(second.actorId, 'DISABLED');
    expect((await bk.get('/oauth2/userinfo', res.body.access_token)).status).toBe(401);
  });

  it('is refused once the person is disabled, and the delegated token stops working', async () => {
    const subject = await personToken();
    const res = await delegate(agent, subject, await ownToken(agent));
    expect((await bk.get('/oauth2/userinfo', res.body.access_token)).status).toBe(200);
    await bk.app.get(ActorsService).setStatus(aliceId, 'DISABLED');
    expect((await bk.get('/oauth2/userinfo', res.body.access_token)).status).toBe(401);
    const again = await delegate(agent, subject, await ownToken(agent));
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
    await expect(
      bk.app
        .get(IdentityService)
        .authenticateRequest({ headers: { authorization: `Bearer ${res.body.access_token}` } }),
    ).rejects.toBeInstanceOf(AppError);
  });
});
