import { createHmac, KeyObject, randomUUID, sign } from 'node:crypto';
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import Redis from 'ioredis';
import * as oidc from 'openid-client';
import { type RunningBridgekeeper, startTwoNodes } from '../support/bridgekeeper';
import { CREATE_CLIENT, type CreatedClient, clientInput, createClient } from '../support/gql-ops';
import { OidcIdp } from '../support/oidc-provider';
import { type RedisServer, startRedis } from '../support/redis';

// private_key_jwt client authentication (RFC 7523 §2.2, OIDC Core §9): a client registers public keys
// and authenticates with signed, short-lived, one-time assertions. Two nodes share PostgreSQL and Redis,
// so a jti used on one node is refused on the other.
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const SET_JWKS = `mutation($id: ID!, $jwks: String!) {
  setClientJwks(id: $id, jwks: $jwks) { id tokenEndpointAuthMethod jwks }
}`;
const ROTATE_SECRET = `mutation($id: ID!) { rotateClientSecret(id: $id) { clientSecret } }`;

interface KeyPair {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function keyPair(
  alg: 'ES256' | 'RS256' | 'PS256' | 'EdDSA',
  kid: string = randomUUID(),
): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid } };
}

const jwksOf = (...keys: KeyPair[]) => JSON.stringify({ keys: keys.map((k) => k.publicJwk) });

describe('private_key_jwt client authentication', () => {
  let idp: OidcIdp;
  let redis: RedisServer;
  let a: RunningBridgekeeper;
  let b: RunningBridgekeeper;
  let adminToken: string;
  /** Every assertion sent, to prove none reaches a log line. */
  const sent: string[] = [];

  beforeAll(async () => {
    [idp, redis] = await Promise.all([OidcIdp.start(), startRedis()]);
    [a, b] = await startTwoNodes({
      issuers: [idp.trustedIssuer()],
      admins: ['idp:root'],
      redisUrl: redis.url,
    });
    adminToken = await idp.login('root');
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await Promise.all([idp?.stop(), redis?.stop()]);
  });

  /** The raw answer, for the refusals. */
  const create = (input: Record<string, unknown>) =>
    a.graphql(CREATE_CLIENT, adminToken, clientInput(input));

  const createJwtClient = (...keys: KeyPair[]): Promise<CreatedClient> =>
    createClient(a, adminToken, {
      tokenEndpointAuthMethod: 'PRIVATE_KEY_JWT',
      jwks: jwksOf(...keys),
    });

  /** A hand-made assertion: good by default, each test breaks one thing. */
  async function assertion(
    clientId: string,
    key: KeyPair,
    claims: JWTPayload = {},
    header: Record<string, unknown> = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({
      iss: clientId,
      sub: clientId,
      aud: `${a.url}/oauth2/token`,
      jti: randomUUID(),
      iat: now,
      exp: now + 60,
      ...claims,
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
      .sign(key.privateKey);
    sent.push(jwt);
    return jwt;
  }

  function post(
    node: RunningBridgekeeper,
    path: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ) {
    return fetch(`${node.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }

  const tokenWith = (jwt: string, extra: Record<string, string> = {}, node = a) =>
    post(node, '/oauth2/token', {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: jwt,
      ...extra,
    });

  /** The fixed reason of the last refusal node logged. */
  function lastRefusal(node: RunningBridgekeeper): string | undefined {
    const line = [...node.logs].reverse().find((l) => l.includes('oauth request refused'));
    return line ? (JSON.parse(line) as { reason?: string }).reason : undefined;
  }

  async function expectInvalidClient(res: Response): Promise<void> {
    expect(res.status).toBe(401);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({
      error: 'invalid_client',
      error_description: 'Client authentication failed',
    });
  }

  it('advertises private_key_jwt and asymmetric signing algorithms only', async () => {
    const meta = (await (await a.get('/.well-known/openid-configuration')).json()) as Record<
      string,
      string[]
    >;
    for (const field of [
      'token_endpoint_auth_methods_supported',
      'revocation_endpoint_auth_methods_supported',
      'introspection_endpoint_auth_methods_supported',
    ]) {
      expect(meta[field]).toContain('private_key_jwt');
    }
    const algs = meta.token_endpoint_auth_signing_alg_values_supported;
    expect(algs).toEqual(expect.arrayContaining(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']));
    expect(algs.some((alg) => alg.startsWith('HS') || alg === 'none')).toBe(false);
  });

  it('registers a PRIVATE_KEY_JWT client without a secret, showing its public keys', async () => {
    const key = await keyPair('ES256');
    const c = await createJwtClient(key);
    expect(c.clientSecret).toBeNull();
    expect(c.client.tokenEndpointAuthMethod).toBe('PRIVATE_KEY_JWT');
    expect(JSON.parse(c.client.jwks!)).toEqual({ keys: [key.publicJwk] });
    const rotate = await a.graphql(ROTATE_SECRET, adminToken, { id: c.client.id });
    expect(rotate.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // Secret clients stay as they were: a secret, no keys.
    const data = await createClient(a, adminToken);
    expect(data.clientSecret).toMatch(/^bks_/);
    expect(data.client).toMatchObject({
      tokenEndpointAuthMethod: 'CLIENT_SECRET_BASIC',
      jwks: null,
    });
  });

  it('issues a client-credentials token through openid-client that works on /oauth2/userinfo, and introspects with an assertion', async () => {
    for (const alg of ['ES256', 'RS256', 'PS256', 'EdDSA'] as const) {
      const key = await keyPair(alg);
      const c = await createJwtClient(key);
      const config = await oidc.discovery(
        new URL(a.url),
        c.client.clientId,
        undefined,
        oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }),
        { execute: [oidc.allowInsecureRequests] },
      );
      const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api' });
      expect(tokens.scope).toBe('api');
      const userinfo = await b.get('/oauth2/userinfo', tokens.access_token);
      expect(userinfo.status).toBe(200);
      expect(await userinfo.json()).toMatchObject({
        sub: c.client.actorId,
        issuer: 'bridgekeeper:clients',
        subject: c.client.clientId,
      });
      // Introspection and revocation use the same client authentication.
      expect(await oidc.tokenIntrospection(config, tokens.access_token)).toMatchObject({
        active: true,
        client_id: c.client.clientId,
      });
      await oidc.tokenRevocation(config, tokens.access_token);
      expect((await a.get('/oauth2/userinfo', tokens.access_token)).status).toBe(401);
    }
  });

  it('accepts our issuer or our token endpoint as aud, without client_id or with the matching one', async () => {
    const key = await keyPair('ES256');
    const c = await createJwtClient(key);
    const id = c.client.clientId;
    expect((await tokenWith(await assertion(id, key, { aud: a.url }))).status).toBe(200);
    expect((await tokenWith(await assertion(id, key), { client_id: id })).status).toBe(200);
    // Without iat: exp alone bounds it.
    expect((await tokenWith(await assertion(id, key, { iat: undefined }))).status).toBe(200);
  });

  it('accepts each assertion once, on any node: a replay is invalid_client', async () => {
    const key = await keyPair('ES256');
    const c = await createJwtClient(key);
    const jwt = await assertion(c.client.clientId, key);
    expect((await tokenWith(jwt)).status).toBe(200);
    await expectInvalidClient(await tokenWith(jwt));
    await expectInvalidClient(await tokenWith(jwt, {}, b));
    // The same jti in a new assertion is a replay too.
    const jti = randomUUID();
    expect((await tokenWith(await assertion(c.client.clientId, key, { jti }), {}, b)).status).toBe(
      200,
    );
    await expectInvalidClient(await tokenWith(await assertion(c.client.clientId, key, { jti })));
    // Nothing but a hash of client id and jti is kept in Redis (never the assertion or the jti).
    const client = new Redis(redis.url);
    try {
      const keys = (await client.keys('*')).join('\n');
      expect(keys).toMatch(/jti:[A-Za-z0-9_-]{43}/);
      expect(keys).not.toContain(jti);
      expect(keys).not.toContain(jwt.split('.')[2]);
    } finally {
      client.disconnect();
    }
  });

  it('refuses a wrong key, an unknown kid, a wrong aud, expired, long-lived, iss≠sub, HS256, alg none and a mismatched client_id', async () => {
    const key = await keyPair('ES256', 'k1');
    const c = await createJwtClient(key);
    const id = c.client.clientId;
    const now = Math.floor(Date.now() / 1000);
    const other = await keyPair('ES256', 'k1');
    const unknownKid = { ...key, kid: 'k2' };
    const hs256 = (() => {
      const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const input = `${enc({ alg: 'HS256', kid: 'k1' })}.${enc({
        iss: id,
        sub: id,
        aud: `${a.url}/oauth2/token`,
        jti: randomUUID(),
        iat: now,
        exp: now + 60,
      })}`;
      return `${input}.${createHmac('sha256', id).update(input).digest('base64url')}`;
    })();
    const none = (() => {
      const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      return `${enc({ alg: 'none' })}.${enc({ iss: id, sub: id, aud: a.url, jti: 'x', exp: now + 60 })}.`;
    })();
    // jose will not sign an unknown `crit`: sign it by hand, validly, with the client's key.
    const critAssertion = (() => {
      const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const input = `${enc({ alg: 'ES256', kid: 'k1', crit: ['bk'], bk: 1 })}.${enc({
        iss: id,
        sub: id,
        aud: `${a.url}/oauth2/token`,
        jti: randomUUID(),
        iat: now,
        exp: now + 60,
      })}`;
      const signature = sign('sha256', Buffer.from(input), {
        key: KeyObject.from(key.privateKey),
        dsaEncoding: 'ieee-p1363',
      });
      return `${input}.${signature.toString('base64url')}`;
    })();
    sent.push(hs256, none, critAssertion);
    // Each case with the reason it must be refused for (logged, never sent).
    const refused: [string, string, string, Record<string, string>?][] = [
      ['wrong key', 'assertion_invalid', await assertion(id, other)],
      ['unknown kid', 'assertion_invalid', await assertion(id, unknownKid)],
      [
        'wrong aud',
        'assertion_invalid',
        await assertion(id, key, { aud: 'https://x.example/token' }),
      ],
      [
        'aud of another path',
        'assertion_invalid',
        await assertion(id, key, { aud: `${a.url}/oauth2/revoke` }),
      ],
      [
        'two audiences',
        'assertion_multi_aud',
        await assertion(id, key, { aud: [a.url, 'https://rs.example'] }),
      ],
      ['no aud', 'assertion_invalid', await assertion(id, key, { aud: undefined })],
      [
        'expired',
        'assertion_invalid',
        await assertion(id, key, { iat: now - 600, exp: now - 120 }),
      ],
      [
        'exp too far after iat',
        'assertion_too_long_lived',
        await assertion(id, key, { exp: now + 3600 }),
      ],
      [
        'exp too far, no iat',
        'assertion_too_long_lived',
        await assertion(id, key, { iat: undefined, exp: now + 3600 }),
      ],
      [
        'iat in the future',
        'assertion_iat_in_future',
        await assertion(id, key, { iat: now + 200, exp: now + 250 }),
      ],
      ['not yet valid', 'assertion_invalid', await assertion(id, key, { nbf: now + 600 })],
      ['iss≠sub', 'assertion_sub_not_iss', await assertion(id, key, { sub: 'someone-else' })],
      ['no jti', 'assertion_invalid', await assertion(id, key, { jti: undefined })],
      ['unknown client', 'assertion_client_unknown', await assertion('bkc_unknown', key)],
      ['HS256 signed with the client id', 'assertion_alg_refused', hs256],
      ['alg none', 'assertion_malformed', none],
      ['crit header', 'assertion_malformed', critAssertion],
      [
        'client_id of another client',
        'assertion_client_id_mismatch',
        await assertion(id, key),
        { client_id: 'bkc_other' },
      ],
      ['too large', 'assertion_malformed', await assertion(id, key, { pad: 'x'.repeat(9000) })],
      ['not a JWS', 'assertion_malformed', 'not-a-jwt'],
    ];
    for (const [why, reason, jwt, extra] of refused) {
      const res = await tokenWith(jwt, extra);
      if (res.status !== 401) throw new Error(`${why}: got ${res.status}`);
      await expectInvalidClient(res);
      expect([why, lastRefusal(a)]).toEqual([why, reason]);
    }
    // Wrong assertion type, or an assertion without its type.
    await expectInvalidClient(
      await post(a, '/oauth2/token', {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
        client_assertion: await assertion(id, key),
      }),
    );
    await expectInvalidClient(
      await post(a, '/oauth2/token', {
        grant_type: 'client_credentials',
        client_assertion: await assertion(id, key),
      }),
    );
    // An assertion and a secret at once is two methods.
    const both = await tokenWith(await assertion(id, key), { client_secret: 'bks_x' });
    expect(both.status).toBe(400);
  });

  it('refuses a secret for a PRIVATE_KEY_JWT client, and an assertion for a secret client', async () => {
    const key = await keyPair('ES256');
    const jwtClient = await createJwtClient(key);
    const basic = (id: string, secret: string) => ({
      authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
    });
    await expectInvalidClient(
      await post(
        a,
        '/oauth2/token',
        { grant_type: 'client_credentials' },
        basic(jwtClient.client.clientId, 'bks_guess'),
      ),
    );
    await expectInvalidClient(
      await post(a, '/oauth2/token', {
        grant_type: 'client_credentials',
        client_id: jwtClient.client.clientId,
        client_secret: 'bks_guess',
      }),
    );
    const secretClient = await createClient(a, adminToken);
    await expectInvalidClient(await tokenWith(await assertion(secretClient.client.clientId, key)));
    expect(lastRefusal(a)).toBe('assertion_for_secret_client');
    // The secret client's own secret still works.
    const ok = await post(
      a,
      '/oauth2/token',
      { grant_type: 'client_credentials' },
      basic(secretClient.client.clientId, secretClient.clientSecret!),
    );
    expect(ok.status).toBe(200);
    expect(a.logs.join('\n')).not.toContain(secretClient.clientSecret!);
  });

  it('refuses private keys, symmetric keys and bad key sets at registration (BAD_USER_INPUT naming jwks)', async () => {
    const key = await keyPair('ES256');
    const privateJwk = { ...(await exportJWK(key.privateKey)), kid: 'p' };
    const cases: [string, Record<string, unknown>][] = [
      ['private key', { jwks: JSON.stringify({ keys: [privateJwk] }) }],
      ['oct key', { jwks: JSON.stringify({ keys: [{ kty: 'oct', kid: 'h', k: 'c2VjcmV0' }] }) }],
      ['no kid', { jwks: JSON.stringify({ keys: [{ ...key.publicJwk, kid: undefined }] }) }],
      ['not JSON', { jwks: '{' }],
      ['missing', {}],
    ];
    for (const [why, extra] of cases) {
      const res = await create({ tokenEndpointAuthMethod: 'PRIVATE_KEY_JWT', ...extra });
      const err = res.body.errors?.[0];
      if (err?.extensions?.code !== 'BAD_USER_INPUT')
        throw new Error(`${why}: ${JSON.stringify(err)}`);
      expect(err.message).toMatch(/^jwks: /);
      expect(err.message).not.toContain(String(privateJwk.d));
    }
    // Keys on a secret client are refused too.
    const secretWithKeys = await create({ jwks: jwksOf(key) });
    expect(secretWithKeys.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // And nothing private was logged.
    expect(a.logs.join('\n')).not.toContain(String(privateJwk.d));
  });

  it('rotates keys with setClientJwks: the old key is refused at once, the new one accepted, on every node', async () => {
    const oldKey = await keyPair('ES256', 'old');
    const newKey = await keyPair('EdDSA', 'new');
    const c = await createJwtClient(oldKey);
    const id = c.client.clientId;
    expect((await tokenWith(await assertion(id, oldKey), {}, b)).status).toBe(200);
    const set = await a.graphql(SET_JWKS, adminToken, { id: c.client.id, jwks: jwksOf(newKey) });
    expect(set.body.errors).toBeUndefined();
    expect(JSON.parse((set.body.data!.setClientJwks as { jwks: string }).jwks)).toEqual({
      keys: [newKey.publicJwk],
    });
    for (const node of [a, b]) {
      await expectInvalidClient(await tokenWith(await assertion(id, oldKey), {}, node));
      expect((await tokenWith(await assertion(id, newKey), {}, node)).status).toBe(200);
    }
    const bad = await a.graphql(SET_JWKS, adminToken, {
      id: c.client.id,
      jwks: JSON.stringify({ keys: [{ kty: 'oct', kid: 'h', k: 'c2VjcmV0' }] }),
    });
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // A secret client has no keys to set.
    const secretClient = await createClient(a, adminToken);
    const refused = await a.graphql(SET_JWKS, adminToken, {
      id: secretClient.client.id,
      jwks: jwksOf(newKey),
    });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // Only an ADMIN may set keys.
    const user = await a.graphql(SET_JWKS, await idp.login('someone'), {
      id: c.client.id,
      jwks: jwksOf(oldKey),
    });
    expect(user.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('never logs an assertion (nor its signature)', () => {
    expect(sent.length).toBeGreaterThan(20);
    const logs = [...a.logs, ...b.logs].join('\n');
    for (const jwt of sent) {
      expect(logs).not.toContain(jwt);
      const signature = jwt.split('.')[2];
      if (signature) expect(logs).not.toContain(signature);
    }
    // The refusals are logged with their fixed reason only.
    expect(logs).toContain('"reason":"assertion_replayed"');
  });
});
