import { type RunningBridgekeeper, startTwoNodes } from '../support/bridgekeeper';
import { OidcIdp } from '../support/oidc-provider';
import { waitFor } from '../support/ports';
import { type RedisServer, startRedis } from '../support/redis';

// SECURITY.md rules 13 and 19: a revocation reaches every node even while Redis (the push channel) is
// down: nodes then re-read revocations from PostgreSQL every second.
describe('revocation with Redis down', () => {
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

  it('refuses a token revoked on one node on the other, through PostgreSQL, while Redis is down', async () => {
    const created = await a.graphql(
      'mutation($input: CreateClientInput!) { createClient(input: $input) { client { clientId } clientSecret } }',
      adminToken,
      { input: { name: 'svc', grantTypes: ['CLIENT_CREDENTIALS'], scopes: ['api'] } },
    );
    const { client, clientSecret } = created.body.data!.createClient as {
      client: { clientId: string };
      clientSecret: string;
    };
    const basic = `Basic ${Buffer.from(`${client.clientId}:${clientSecret}`).toString('base64')}`;
    const form = (body: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
      body: new URLSearchParams(body).toString(),
    });
    const tokens = await Promise.all(
      [1, 2].map(async () => {
        const res = await fetch(
          `${a.url}/oauth2/token`,
          form({ grant_type: 'client_credentials' }),
        );
        return ((await res.json()) as { access_token: string }).access_token;
      }),
    );
    const status = async (node: RunningBridgekeeper, t: string) =>
      (await node.get('/oauth2/userinfo', t)).status;
    // Both nodes have verified (and cached) both tokens.
    for (const t of tokens) for (const node of [a, b]) expect(await status(node, t)).toBe(200);

    await redis.stop();
    const revoked = await fetch(`${a.url}/oauth2/revoke`, form({ token: tokens[0] }));
    expect(revoked.status).toBe(200);
    expect(await status(a, tokens[0])).toBe(401);
    await waitFor(
      'node B to refuse the revoked token without Redis',
      async () => (await status(b, tokens[0])) === 401,
      10_000,
    );
    // The other token is untouched on both.
    expect(await status(a, tokens[1])).toBe(200);
    expect(await status(b, tokens[1])).toBe(200);
  });
});
