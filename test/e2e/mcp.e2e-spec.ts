import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
} from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as PgClient } from 'pg';
import { AuditService } from 'src/audit/audit.service';
import { type RunningBridgekeeper, startBridgekeeper } from '../support/bridgekeeper';
import {
  PRACTITIONER,
  createClient,
  createProject,
  disableActor,
  enableActor,
  inviteMember,
} from '../support/gql-ops';
import { OidcIdp } from '../support/oidc-provider';
import { query } from '../support/postgres';

// The MCP endpoint (issue 11 §3, §4) driven by the official MCP client SDK, as an agent would: its
// client-credentials and private-key-JWT providers discover the authorization server from the 401's
// challenge, get a token and call tools. Refusals are checked over raw HTTP too.

const MCP_SCOPES = ['mcp:read', 'mcp:write'];
const ADMIN_TOOLS = [
  'search_actors',
  'get_actor',
  'disable_actor',
  'enable_actor',
  'revoke_sessions',
  'list_clients',
  'list_trusted_issuers',
];
const PROJECT_TOOLS = ['list_projects', 'list_members', 'invite_member', 'set_membership_active'];

interface ToolAnswer {
  isError?: boolean;
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
}

describe('MCP endpoint', () => {
  let idp: OidcIdp;
  let bk: RunningBridgekeeper;
  let adminToken: string;
  let mcpUrl: URL;
  const open: Client[] = [];

  beforeAll(async () => {
    idp = await OidcIdp.start();
    bk = await startBridgekeeper({ issuers: [idp.trustedIssuer()], admins: ['idp:root'] });
    adminToken = await idp.login('root');
    mcpUrl = new URL(`${bk.url}/mcp`);
  });

  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await bk?.close();
    await idp?.stop();
  });

  async function connect(authProvider: OAuthClientProvider): Promise<Client> {
    const client = new Client({ name: 'e2e-agent', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider }));
    open.push(client);
    return client;
  }

  /**
   * A client-credentials client of ours, and the SDK's provider for it (any client may ask for the MCP
   * scopes on the MCP resource; what it reaches is still bounded by its principal's roles).
   */
  async function secretClient(input: Record<string, unknown> = {}) {
    const created = await createClient(bk, adminToken, { scopes: ['api'], ...input });
    const provider = new ClientCredentialsProvider({
      clientId: created.client.clientId,
      clientSecret: created.clientSecret!,
      scope: MCP_SCOPES.join(' '),
      expectedIssuer: bk.url,
    });
    return { created, provider };
  }

  const names = async (c: Client) => (await c.listTools()).tools.map((t) => t.name).sort();
  const call = async (c: Client, name: string, args: Record<string, unknown> = {}) =>
    (await c.callTool({ name, arguments: args })) as ToolAnswer;

  /** A client-credentials token straight from the token endpoint, for /mcp unless `resource` is null. */
  async function tokenFor(
    clientId: string,
    secret: string,
    scope: string,
    resource: string | null = `${bk.url}/mcp`,
  ): Promise<string> {
    const form: Record<string, string> = { grant_type: 'client_credentials', scope };
    if (resource !== null) form.resource = resource;
    const res = await fetch(`${bk.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      },
      body: new URLSearchParams(form).toString(),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  /** A raw JSON-RPC request to /mcp. */
  function rpc(
    token: string | undefined,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return fetch(mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, ...body }),
    });
  }

  const listTools = { method: 'tools/list', params: {} };

  it('connects an admin agent with client credentials: every tool, annotated, and calls work', async () => {
    const { created, provider } = await secretClient({ roles: ['ADMIN'] });
    const client = await connect(provider);
    expect(client.getInstructions()).toMatch(/Bridgekeeper is the identity service/);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      ['whoami', ...PROJECT_TOOLS, ...ADMIN_TOOLS].sort(),
    );
    for (const t of tools) {
      expect(typeof t.annotations?.readOnlyHint).toBe('boolean');
      expect(typeof t.annotations?.destructiveHint).toBe('boolean');
    }
    expect(tools.find((t) => t.name === 'disable_actor')?.annotations?.destructiveHint).toBe(true);
    expect(tools.find((t) => t.name === 'list_clients')?.annotations?.readOnlyHint).toBe(true);

    const me = await call(client, 'whoami');
    expect(me.isError).toBeFalsy();
    expect(me.structuredContent).toMatchObject({
      clientId: created.client.clientId,
      actor: { id: created.client.actorId, roles: ['ADMIN'] },
    });

    const clients = await call(client, 'list_clients');
    expect(JSON.stringify(clients)).toContain(created.client.clientId);
    // Nothing secret in what an agent sees.
    expect(JSON.stringify(clients)).not.toMatch(/secretHash|\$argon2/);
    expect(JSON.stringify(clients)).not.toContain(created.clientSecret!);

    const issuers = await call(client, 'list_trusted_issuers');
    expect(issuers.structuredContent).toMatchObject({ issuers: [{ name: 'idp' }] });

    // Project work through the domain services: create, invite, list, deactivate.
    const projectId = await createProject(bk, adminToken, 'mcp-admin-project');
    const invited = await call(client, 'invite_member', {
      projectId,
      resourceType: 'Practitioner',
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: 'ada@example.com',
    });
    expect(invited.isError).toBeFalsy();
    const membershipId = (invited.structuredContent as { membership: { id: string } }).membership
      .id;
    // An email-only invite whose email did not go out: no set-password link is made for an agent's call
    // (a console or API invite answers it to the admin), so none can be in the tool's answer.
    expect(JSON.stringify(invited)).not.toContain('set-password');
    expect(
      await query(bk.databaseUrl, 'SELECT id FROM one_time_links WHERE membership_id = $1', [
        membershipId,
      ]),
    ).toEqual([]);
    const members = await call(client, 'list_members', { projectId });
    expect(members.structuredContent).toMatchObject({
      members: [{ id: membershipId, email: 'ada@example.com', active: true, admin: false }],
    });
    const off = await call(client, 'set_membership_active', { membershipId, active: false });
    expect(off.structuredContent).toMatchObject({ membership: { active: false } });

    // Bad arguments are a tool error, not a crash.
    const bad = await call(client, 'get_actor', { actorId: 'not-a-uuid' });
    expect(bad.isError).toBe(true);
    expect(bad.content[0].text).toMatch(/Invalid arguments/);

    // Each call is attributable in the logs: actor, client, tool, outcome.
    const audit = bk.logs
      .filter((l) => l.includes('"audit":"mcp.tool_call"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actorId: created.client.actorId,
          clientId: created.client.clientId,
          tool: 'invite_member',
          outcome: 'ok',
        }),
        expect.objectContaining({ tool: 'get_actor', outcome: 'invalid' }),
      ]),
    );
    // ... and in the audit log, with the change the tool made (audited by its domain service).
    await bk.app.get(AuditService).flush();
    const rows = await auditRows(created.client.actorId);
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'mcp.tool_call',
          outcome: 'SUCCESS',
          client_id: created.client.clientId,
          target_id: 'invite_member',
        }),
        expect.objectContaining({
          action: 'mcp.tool_call',
          outcome: 'FAILURE',
          target_id: 'get_actor',
          details: { result: 'invalid' },
        }),
      ]),
    );
    expect(rows.map((r) => r.action)).toEqual(
      expect.arrayContaining(['membership.invite', 'membership.deactivate']),
    );
  });

  /** The audit events of an actor, straight from PostgreSQL. */
  async function auditRows(actorId: string): Promise<Record<string, unknown>[]> {
    const pg = new PgClient({ connectionString: bk.databaseUrl });
    await pg.connect();
    try {
      const res = await pg.query(
        'SELECT action, outcome, client_id, target_id, details FROM audit_events WHERE actor_id = $1',
        [actorId],
      );
      return res.rows as Record<string, unknown>[];
    } finally {
      await pg.end();
    }
  }

  it('connects with private_key_jwt (the SDK signs the client assertion)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'mcp-agent', alg: 'ES256', use: 'sig' };
    const created = await createClient(bk, adminToken, {
      scopes: ['api'],
      roles: ['ADMIN'],
      tokenEndpointAuthMethod: 'PRIVATE_KEY_JWT',
      jwks: JSON.stringify({ keys: [jwk] }),
    });
    const client = await connect(
      new PrivateKeyJwtProvider({
        clientId: created.client.clientId,
        privateKey: await exportPKCS8(privateKey),
        algorithm: 'ES256',
        scope: MCP_SCOPES.join(' '),
        expectedIssuer: bk.url,
      }),
    );
    const me = await call(client, 'whoami');
    expect(me.structuredContent).toMatchObject({ clientId: created.client.clientId });
    const found = await call(client, 'get_actor', { actorId: created.client.actorId });
    expect(found.structuredContent).toMatchObject({ actor: { id: created.client.actorId } });
  });

  it('shows a non-admin no admin tools, and refuses one forced by name', async () => {
    const { created, provider } = await secretClient();
    const client = await connect(provider);
    expect(await names(client)).toEqual(['whoami']);
    const forced = await call(client, 'disable_actor', { actorId: created.client.actorId });
    expect(forced.isError).toBe(true);
    expect(forced.content[0].text).toBe('You may not use this tool');
    const listed = await call(client, 'list_trusted_issuers');
    expect(listed.isError).toBe(true);
    expect(JSON.stringify(listed)).not.toContain(idp.issuer);
    expect(
      bk.logs.some(
        (l) =>
          l.includes('"audit":"mcp.tool_call"') &&
          l.includes(`"clientId":"${created.client.clientId}"`) &&
          l.includes('"tool":"disable_actor"') &&
          l.includes('"outcome":"denied"'),
      ),
    ).toBe(true);
  });

  it('gives a project admin client its project tools for its own project only', async () => {
    const mine = await createProject(bk, adminToken, 'mcp-mine');
    const other = await createProject(bk, adminToken, 'mcp-other');
    await inviteMember(bk, adminToken, other, { ...PRACTITIONER, email: 'x@example.com' });
    const { provider } = await secretClient({ roles: ['ADMIN'], projectId: mine });
    const client = await connect(provider);
    expect(await names(client)).toEqual(['whoami', ...PROJECT_TOOLS].sort());
    const projects = await call(client, 'list_projects');
    expect(projects.structuredContent).toEqual({
      projects: [expect.objectContaining({ id: mine, name: 'mcp-mine' })],
    });
    const refused = await call(client, 'list_members', { projectId: other });
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused)).not.toContain('x@example.com');
  });

  it('answers 403 insufficient_scope for a tool the roles allow but the token’s scopes do not', async () => {
    const { created } = await secretClient({ roles: ['ADMIN'] });
    const readOnly = await tokenFor(created.client.clientId, created.clientSecret!, 'mcp:read');
    const listed = await rpc(readOnly, listTools);
    expect(listed.status).toBe(200);
    const tools = ((await listed.json()) as { result: { tools: { name: string }[] } }).result.tools;
    expect(tools.map((t) => t.name)).not.toContain('disable_actor');
    expect(tools.map((t) => t.name)).toContain('search_actors');
    const res = await rpc(readOnly, {
      method: 'tools/call',
      params: { name: 'disable_actor', arguments: { actorId: created.client.actorId } },
    });
    expect(res.status).toBe(403);
    const challenge = res.headers.get('www-authenticate')!;
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="mcp:write"');
    expect(challenge).toContain(
      `resource_metadata="${bk.url}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect(await res.json()).toMatchObject({ error: 'insufficient_scope', scope: 'mcp:write' });
    expect(
      bk.logs.some(
        (l) =>
          l.includes('"audit":"mcp.tool_call"') &&
          l.includes('"tool":"disable_actor"') &&
          l.includes('"reason":"insufficient_scope"'),
      ),
    ).toBe(true);
  });

  it('answers 401 with the RFC 9728 challenge without a token, or with a garbage one', async () => {
    const none = await rpc(undefined, listTools);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${bk.url}/.well-known/oauth-protected-resource/mcp", scope="mcp:read mcp:write"`,
    );
    // The metadata it points to names this resource and its authorization server.
    const meta = await fetch(`${bk.url}/.well-known/oauth-protected-resource/mcp`);
    expect(await meta.json()).toMatchObject({
      resource: `${bk.url}/mcp`,
      authorization_servers: [bk.url],
    });
    const garbage = await rpc('garbage', listTools);
    expect(garbage.status).toBe(401);
    const challenge = garbage.headers.get('www-authenticate')!;
    expect(challenge).toContain('error="invalid_token"');
    expect(challenge).toContain(
      `resource_metadata="${bk.url}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect(await garbage.text()).not.toContain('garbage');
  });

  it('refuses an external provider’s token (no passthrough) and an API-audience token', async () => {
    const external = await rpc(adminToken, listTools);
    expect(external.status).toBe(401);
    expect(external.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);

    const created = await createClient(bk, adminToken, { scopes: ['api'], roles: ['ADMIN'] });
    const apiToken = await tokenFor(created.client.clientId, created.clientSecret!, 'api', null);
    // The token works where it was issued for ...
    expect((await bk.graphql('{ me { id } }', apiToken)).status).toBe(200);
    // ... and not at /mcp.
    const res = await rpc(apiToken, listTools);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('refuses an MCP token on the wrong resource (the API: GraphQL and REST)', async () => {
    const created = await createClient(bk, adminToken, { scopes: ['api'], roles: ['ADMIN'] });
    const mcpToken = await tokenFor(created.client.clientId, created.clientSecret!, 'mcp:read');
    expect((await rpc(mcpToken, listTools)).status).toBe(200);
    const onApi = await bk.graphql('{ me { id } }', mcpToken);
    expect(onApi.status).toBe(401);
    const rest = await bk.get('/oauth2/userinfo', mcpToken);
    expect(rest.status).toBe(401);
  });

  it('stops a disabled actor’s MCP token at its next call', async () => {
    const { created } = await secretClient();
    const token = await tokenFor(created.client.clientId, created.clientSecret!, 'mcp:read');
    const whoami = { method: 'tools/call', params: { name: 'whoami', arguments: {} } };
    expect((await rpc(token, whoami)).status).toBe(200);
    await disableActor(bk, adminToken, created.client.actorId);
    const res = await rpc(token, whoami);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    await enableActor(bk, adminToken, created.client.actorId);
  });

  it('refuses a request with a foreign Origin, and serves our own', async () => {
    const { created } = await secretClient();
    const token = await tokenFor(created.client.clientId, created.clientSecret!, 'mcp:read');
    const foreign = await rpc(token, listTools, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: 'forbidden' });
    // Refused before any token check: even without a token.
    expect((await rpc(undefined, listTools, { origin: 'http://localhost:1' })).status).toBe(403);
    expect((await rpc(token, listTools, { origin: new URL(bk.url).origin })).status).toBe(200);
  });

  it('is stateless: POST only, no session id', async () => {
    const { created } = await secretClient();
    const token = await tokenFor(created.client.clientId, created.clientSecret!, 'mcp:read');
    const init = await rpc(token, {
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'raw', version: '1' },
      },
    });
    expect(init.status).toBe(200);
    expect(init.headers.get('mcp-session-id')).toBeNull();
    const get = await fetch(mcpUrl, { headers: { authorization: `Bearer ${token}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});
