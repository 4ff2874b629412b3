// A real OpenID provider (the `oidc-provider` package) on a loopback port, used as a trusted issuer by the
// end-to-end tests. It issues RFC 9068 JWT access tokens for the resource `RESOURCE` through:
//   - client_credentials (sub = client id), and
//   - a test-only grant `urn:bridgekeeper:test:login` that stands in for the interactive login a person
//     would do: it takes `sub` and optional profile claims and returns the same kind of JWT access token
//     oidc-provider issues after an authorization-code flow. Tokens are signed with the provider's own
//     keys, published at its own jwks_uri.
// For sign-in through it (issue 9 §4, Bridgekeeper as a relying party) it also has its own login form
// (oidc-provider's built-in interactions: any login, any password), open dynamic client registration that
// honours a requested `client_id` / `client_secret` (tests register Bridgekeeper's callback once its port
// is known), and accounts whose claims follow their login (see `accountClaims`), in the ID token too.
// Usage: node oidc-idp.mjs <port>. Prints one JSON line {"issuer": "..."} when ready.
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const RESOURCE = 'https://api.bridgekeeper.test';
const LOGIN_GRANT = 'urn:bridgekeeper:test:login';

const resourceServer = {
  audience: RESOURCE,
  scope: 'openid profile email api',
  accessTokenFormat: 'jwt',
  accessTokenTTL: 600,
  jwt: { sign: { alg: 'RS256' } },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'bk-test',
      client_secret: 'bk-test-secret-not-for-production',
      grant_types: ['client_credentials', LOGIN_GRANT],
      response_types: [],
      redirect_uris: [],
      scope: 'openid profile email api',
    },
  ],
  features: {
    devInteractions: { enabled: true },
    registration: {
      enabled: true,
      idFactory: (ctx) => ctx.oidc.body?.client_id ?? randomBytes(12).toString('hex'),
      secretFactory: (ctx) => ctx.oidc.body?.client_secret ?? randomBytes(32).toString('base64url'),
    },
    clientCredentials: { enabled: true },
    introspection: { enabled: false },
    revocation: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== RESOURCE) throw new Provider.errors.InvalidTarget();
        return resourceServer;
      },
      useGrantedResource: () => true,
    },
  },
  scopes: ['openid', 'profile', 'email', 'api'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username', 'tags'],
  },
  // Scope claims in the ID token too (not only at userinfo), as Keycloak and Entra do by default.
  conformIdTokenClaims: false,
  findAccount: (_ctx, id) => ({ accountId: id, claims: () => accountClaims(id) }),
  ttl: { ClientCredentials: 600, AccessToken: 600 },
  extraTokenClaims: (ctx, token) =>
    token.gty === LOGIN_GRANT ? profileClaims(ctx.oidc.params) : undefined,
});
provider.proxy = false;

const PROFILE_PARAMS = [
  'fhirUser',
  'ext_fhirUser',
  'email',
  'email_verified',
  'name',
  'given_name',
  'family_name',
  'preferred_username',
];

/**
 * The claims of a person who signs in with login `id`: `<id>@example.test` (verified), a first and last
 * name and two tags. A login starting with `noemail` has no email claim; one starting with `nofirst`
 * no given name.
 */
function accountClaims(id) {
  return {
    sub: id,
    ...(id.startsWith('noemail') ? {} : { email: `${id}@example.test`, email_verified: true }),
    ...(id.startsWith('nofirst') ? {} : { given_name: `Given ${id}` }),
    family_name: `Family ${id}`,
    name: `Given ${id} Family ${id}`,
    tags: ['blue', 'green'],
  };
}

function profileClaims(params) {
  const claims = {};
  for (const name of PROFILE_PARAMS) {
    if (params[name] === undefined) continue;
    if (name === 'ext_fhirUser') claims.ext = { fhirUser: params[name] };
    else claims[name] = name === 'email_verified' ? params[name] === 'true' : params[name];
  }
  return claims;
}

provider.registerGrantType(
  LOGIN_GRANT,
  async (ctx) => {
    const { client, params } = ctx.oidc;
    if (!params.sub) throw new Provider.errors.InvalidRequest('sub is required');
    const token = new provider.AccessToken({
      accountId: params.sub,
      client,
      gty: LOGIN_GRANT,
      grantId: `test-${Date.now()}-${Math.random()}`,
      scope: 'openid profile email api',
    });
    token.resourceServer = resourceServer;
    const value = await token.save();
    ctx.body = {
      access_token: value,
      token_type: 'Bearer',
      expires_in: token.expiration,
      scope: token.scope,
    };
  },
  new Set(['sub', 'resource', ...PROFILE_PARAMS]),
);

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ issuer, resource: RESOURCE }) + '\n');
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
