import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { LocalAccountsService } from 'src/accounts/local-accounts.service';
import {
  type RunningBridgekeeper,
  startBridgekeeper,
  startTwoNodes,
} from '../support/bridgekeeper';
import { CONSOLE_CLIENT_ID, consoleSignIn } from '../support/console-signin';
import { type RedisServer, startRedis } from '../support/redis';

// Issue 10: the console is a public client of Bridgekeeper's own provider, built in: every node
// registers it at start (two nodes starting together make one), it follows the public URL, a person
// signs in to it with code + PKCE (openid-client), and GraphQL refuses to break it.
const PASSWORD = 'correct horse battery staple';
const CLIENTS = `{ clients(first: 20) { edges { node {
  id clientId name tokenEndpointAuthMethod grantTypes scopes redirectUris postLogoutRedirectUris
  status builtIn projectId } } } }`;

interface ClientRow {
  id: string;
  clientId: string;
  tokenEndpointAuthMethod: string;
  grantTypes: string[];
  scopes: string[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  status: string;
  builtIn: boolean;
}

describe('the console’s built-in client', () => {
  let redis: RedisServer;
  let a: RunningBridgekeeper;
  let b: RunningBridgekeeper;
  let adminToken: string;

  beforeAll(async () => {
    redis = await startRedis();
    [a, b] = await startTwoNodes({ issuers: [], redisUrl: redis.url });
    await a.app.get(LocalAccountsService).create({
      username: 'root',
      email: 'root@example.com',
      password: PASSWORD,
      roles: ['ADMIN'],
    });
    adminToken = (await consoleSignIn(a, 'root', PASSWORD)).tokens.access_token;
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  async function consoleClients(node: RunningBridgekeeper): Promise<ClientRow[]> {
    const res = await node.graphql(CLIENTS, adminToken);
    expect(res.body.errors).toBeUndefined();
    const edges = (res.body.data!.clients as { edges: { node: ClientRow }[] }).edges;
    return edges.map((e) => e.node).filter((c) => c.clientId === CONSOLE_CLIENT_ID);
  }

  it('is registered once, public, code + refresh, under <public URL>/console/', async () => {
    const found = await consoleClients(b);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      tokenEndpointAuthMethod: 'NONE',
      grantTypes: ['AUTHORIZATION_CODE', 'REFRESH_TOKEN'],
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      redirectUris: [`${a.url}/console/callback`],
      postLogoutRedirectUris: [`${a.url}/console/`],
      status: 'ACTIVE',
      builtIn: true,
      projectId: null,
    });
  });

  it('signs a person in with code + PKCE; the access token works on GraphQL; refresh rotates', async () => {
    await a.app.get(LocalAccountsService).create({ username: 'bob', password: PASSWORD });
    const { config, tokens } = await consoleSignIn(a, 'bob', PASSWORD);
    expect(tokens.claims()).toMatchObject({ aud: CONSOLE_CLIENT_ID, iss: a.url });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ client_id: CONSOLE_CLIENT_ID });
    const me = await b.graphql('{ me { preferredUsername } }', tokens.access_token);
    expect(me.body.errors).toBeUndefined();
    expect(me.body.data!.me).toEqual({ preferredUsername: 'bob' });
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    // Sign-out goes through end_session back to the console.
    const logout = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: `${a.url}/console/`,
    });
    expect(logout.pathname).toBe('/oauth2/end_session');
  });

  it('refuses a redirect outside the console', async () => {
    const res = await a.get(
      `/oauth2/authorize?${new URLSearchParams({
        client_id: CONSOLE_CLIENT_ID,
        response_type: 'code',
        redirect_uri: 'https://evil.example.com/console/callback',
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        state: 's',
      }).toString()}`,
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('refuses every change that would break it, with a clear error', async () => {
    const [client] = await consoleClients(a);
    const attempts = [
      `mutation { disableClient(id: "${client.id}") { id } }`,
      `mutation { updateClient(id: "${client.id}", input: { redirectUris: ["https://evil.example.com/cb"] }) { id } }`,
      `mutation { rotateClientSecret(id: "${client.id}") { clientSecret } }`,
      `mutation { setClientJwks(id: "${client.id}", jwks: "{\\"keys\\":[]}") { id } }`,
    ];
    for (const query of attempts) {
      const res = await a.graphql(query, adminToken);
      expect(res.body.errors?.[0]).toMatchObject({
        extensions: { code: 'BAD_USER_INPUT', errorCode: 'BUILT_IN_CLIENT' },
      });
      expect(res.body.errors?.[0].message).toMatch(/built-in client/);
    }
    expect((await consoleClients(a))[0]).toMatchObject({
      status: 'ACTIVE',
      redirectUris: [`${a.url}/console/callback`],
    });
  });

  it('follows a change of the public URL at the next start', async () => {
    const moved = await startBridgekeeper({ issuers: [], databaseUrl: a.databaseUrl });
    try {
      expect(moved.url).not.toBe(a.url);
      const found = await consoleClients(a);
      expect(found).toHaveLength(1);
      expect(found[0].redirectUris).toEqual([`${moved.url}/console/callback`]);
      expect(found[0].postLogoutRedirectUris).toEqual([`${moved.url}/console/`]);
    } finally {
      await moved.close();
    }
  });
});
