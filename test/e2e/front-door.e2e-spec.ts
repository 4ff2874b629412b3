import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { type RunningBridgekeeper, startBridgekeeper } from '../support/bridgekeeper';
import { OidcIdp } from '../support/oidc-provider';

// Issue 12 bug 5 and the front door: a node started WITHOUT bridgekeeper.public.url (as in the README's
// quick start) names the address it serves in discovery and in its tokens, so openid-client's discovery
// works exactly as the README shows it; `GET /` says where things are.
describe('the front door', () => {
  let idp: OidcIdp;
  let bk: RunningBridgekeeper;
  let adminToken: string;

  beforeAll(async () => {
    idp = await OidcIdp.start();
    bk = await startBridgekeeper({
      issuers: [{ name: 'idp', issuer: idp.issuer, jwks: idp.jwksUrl, audiences: idp.audience }],
      admins: ['idp:root'],
      // An empty value is unset: the default public URL applies, as on a fresh clone.
      properties: { 'bridgekeeper.public.url': '' },
    });
    adminToken = await idp.login('root');
  });

  afterAll(async () => {
    await bk?.close();
    await idp?.stop();
  });

  it('defaults the public URL to the listening address', () => {
    expect(bk.config.publicUrl).toBe(bk.url);
    expect(bk.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('passes openid-client discovery as the README shows it, and issues tokens with that iss', async () => {
    const created = await bk.graphql(
      `mutation($input: CreateClientInput!) {
        createClient(input: $input) { client { clientId } clientSecret }
      }`,
      adminToken,
      { input: { name: 'readme', grantTypes: ['CLIENT_CREDENTIALS'], scopes: ['api'] } },
    );
    expect(created.body.errors).toBeUndefined();
    const { client, clientSecret } = created.body.data!.createClient as {
      client: { clientId: string };
      clientSecret: string;
    };
    // The README's snippet, with the README's address shape (http://127.0.0.1:<port>).
    const config = await oidc.discovery(new URL(bk.url), client.clientId, clientSecret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    expect(config.serverMetadata().issuer).toBe(bk.url);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api' });
    expect(decodeJwt(tokens.access_token).iss).toBe(bk.url);
  });

  it('answers GET / with the discovery, GraphQL, JWKS and health URLs, without a token', async () => {
    const res = await bk.get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({
      service: 'bridgekeeper',
      issuer: bk.url,
      discovery: `${bk.url}/.well-known/openid-configuration`,
      graphql: `${bk.url}/graphql`,
      jwks: `${bk.url}/.well-known/jwks.json`,
      health: { live: `${bk.url}/health/live`, ready: `${bk.url}/health/ready` },
    });
    for (const path of [
      '/.well-known/openid-configuration',
      '/.well-known/jwks.json',
      '/health/live',
    ])
      expect((await bk.get(path)).status).toBe(200);
  });
});
