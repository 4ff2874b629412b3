import { createLocalJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import type { Logger } from 'pino';
import type { AppConfig } from 'src/config/config.types';
import { SecretsService } from 'src/secrets/secrets.service';
import { privateKeyAad } from 'src/signing-keys/signing-key-material';
import { SigningKeysService } from 'src/signing-keys/signing-keys.service';
import {
  startBridgekeeper,
  type RunningBridgekeeper,
  type StartOptions,
} from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';
import { createTestDatabase, query } from '../support/postgres';
import { startRedis, type RedisServer } from '../support/redis';

// Bridgekeeper's own signing keys (SECURITY.md rules 10, 14, 15): one ACTIVE key however many nodes
// start together, private halves encrypted at rest, a public JWKS, admin-only rotation with overlap, and
// every node learning a rotation made on another one.
jest.setTimeout(60_000);
const AUD = 'bk-signing-keys';
const ISS = 'https://bridgekeeper.test';
const SECRETS_KEY = 'e2e-signing-keys-secrets-key-0123456789abcdef';
const OTHER_SECRETS_KEY = 'e2e-some-other-secrets-key-0123456789abcdef';
const SIGNING_KEY_FIELDS = 'kid alg status createdAt retiredAt publishUntil';

interface KeyRow extends Record<string, unknown> {
  kid: string;
  alg: string;
  status: string;
  public_jwk: JWK;
  private_key_encrypted: string;
  retired_at: Date | null;
  publish_until: Date | null;
}

const keysOf = (url: string) =>
  query<KeyRow>(url, 'SELECT * FROM signing_keys ORDER BY created_at, kid');

function secretsWith(secretsKey: string): SecretsService {
  const config = { mode: 'development', dataDir: '/nonexistent', oauth: { secretsKey } };
  return new SecretsService(
    config as unknown as AppConfig,
    { warn: () => undefined } as unknown as Logger,
  );
}

async function jwksOf(bk: RunningBridgekeeper): Promise<{ keys: JWK[] }> {
  const res = await bk.get('/.well-known/jwks.json');
  expect(res.status).toBe(200);
  return (await res.json()) as { keys: JWK[] };
}

function claims(sub = 'actor-1'): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISS,
    aud: AUD,
    sub,
    client_id: 'c1',
    iat: now,
    exp: now + 300,
    jti: `j-${sub}-${now}`,
  };
}

async function verifyAgainstJwks(bk: RunningBridgekeeper, token: string) {
  return jwtVerify(token, createLocalJWKSet(await jwksOf(bk)), {
    issuer: ISS,
    audience: AUD,
    typ: 'at+jwt',
  });
}

describe('signing keys', () => {
  let stub: JwksStub;
  let a: RunningBridgekeeper;
  let b: RunningBridgekeeper;
  let options: StartOptions;
  let adminToken: string;
  let userToken: string;

  beforeAll(async () => {
    stub = await JwksStub.start();
    options = {
      issuers: [{ name: 'stub', issuer: stub.issuer, jwks: stub.jwksUrl, audiences: AUD }],
      admins: ['stub:admin'],
      databaseUrl: await createTestDatabase(),
      properties: { 'bridgekeeper.secrets.key': SECRETS_KEY },
    };
    // Two nodes starting at once on an empty table.
    [a, b] = await Promise.all([startBridgekeeper(options), startBridgekeeper(options)]);
    adminToken = await stub.token(AUD, { sub: 'admin' });
    userToken = await stub.token(AUD, { sub: 'someone' });
  });

  afterAll(async () => {
    try {
      for (const node of [a, b]) {
        const logs = node?.logs.join('\n') ?? '';
        expect(logs).not.toContain(SECRETS_KEY);
        expect(logs).not.toMatch(/"d":"/);
      }
    } finally {
      await Promise.all([a?.close(), b?.close()]);
      await stub?.stop();
    }
  });

  it('two nodes starting together create exactly one ACTIVE key, and both publish it', async () => {
    const rows = await keysOf(a.databaseUrl);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      alg: 'ES256',
      status: 'ACTIVE',
      retired_at: null,
      publish_until: null,
    });
    expect(rows[0].kid).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const [ja, jb] = [await jwksOf(a), await jwksOf(b)];
    expect(ja).toEqual(jb);
    expect(ja.keys.map((k) => k.kid)).toEqual([rows[0].kid]);
  });

  it('serves the JWKS publicly with only public members, cacheable for 5 minutes', async () => {
    const res = await a.get('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const { keys } = (await res.json()) as { keys: JWK[] };
    expect(Object.keys(keys[0]).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
  });

  it('stores the private key encrypted: only the right secrets key and kid decrypt it', async () => {
    const [row] = await keysOf(a.databaseUrl);
    expect(row.private_key_encrypted).toMatch(
      /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/,
    );
    const jwk = JSON.parse(
      a.app.get(SecretsService).decrypt(row.private_key_encrypted, privateKeyAad(row.kid)),
    ) as JWK;
    expect(jwk.d).toEqual(expect.any(String));
    expect(jwk).toMatchObject({ x: row.public_jwk.x, y: row.public_jwk.y });
    expect(row.private_key_encrypted).not.toContain(jwk.d);
    expect(JSON.stringify(row.public_jwk)).not.toContain(jwk.d);
    expect(() =>
      secretsWith(OTHER_SECRETS_KEY).decrypt(row.private_key_encrypted, privateKeyAad(row.kid)),
    ).toThrow();
    expect(() =>
      secretsWith(SECRETS_KEY).decrypt(row.private_key_encrypted, privateKeyAad('another-kid')),
    ).toThrow();
    expect(
      secretsWith(SECRETS_KEY).decrypt(row.private_key_encrypted, privateKeyAad(row.kid)),
    ).toContain(jwk.d);
  });

  it('signs tokens that verify against the published JWKS, with typ, alg and kid in the header', async () => {
    const keys = a.app.get(SigningKeysService);
    const { token, kid } = await keys.sign(claims(), 'at+jwt');
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid, typ: 'at+jwt' });
    const { payload } = await verifyAgainstJwks(b, token);
    expect(payload).toMatchObject({ sub: 'actor-1', client_id: 'c1' });
    expect(keys.algorithms()).toEqual(['ES256']);
    const vk = await b.app.get(SigningKeysService).verificationKey(kid);
    expect(vk?.alg).toBe('ES256');
    await expect(jwtVerify(token, vk!.key, { algorithms: ['ES256'] })).resolves.toBeDefined();
    // Another typ is another header, never a token usable in place of an access token.
    const id = await keys.sign(claims(), 'JWT');
    expect(decodeProtectedHeader(id.token).typ).toBe('JWT');
    await expect(verifyAgainstJwks(a, id.token)).rejects.toThrow();
  });

  it('answers undefined for unknown or malformed kids', async () => {
    const keys = a.app.get(SigningKeysService);
    await expect(keys.verificationKey('no-such-kid-0123456789')).resolves.toBeUndefined();
    await expect(keys.verificationKey('../../etc/passwd')).resolves.toBeUndefined();
    await expect(keys.verificationKey('x'.repeat(500))).resolves.toBeUndefined();
  });

  it('refuses signing key administration to non-admins', async () => {
    for (const token of [userToken, undefined]) {
      const list = await a.graphql(`{ signingKeys { ${SIGNING_KEY_FIELDS} } }`, token);
      expect(list.body.data?.signingKeys ?? null).toBeNull();
      const rotate = await a.graphql(`mutation { rotateSigningKey { kid } }`, token);
      expect(rotate.body.data?.rotateSigningKey ?? null).toBeNull();
      if (token) {
        expect(list.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        expect(rotate.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      }
    }
    expect(await keysOf(a.databaseUrl)).toHaveLength(1);
  });

  it('rotates for an admin: old key retired but still published until its tokens expire; the other node learns the new kid', async () => {
    const [before] = await keysOf(a.databaseUrl);
    const oldToken = (await a.app.get(SigningKeysService).sign(claims('old'), 'at+jwt')).token;

    const rotated = await a.graphql(
      `mutation { rotateSigningKey { ${SIGNING_KEY_FIELDS} } }`,
      adminToken,
    );
    expect(rotated.body.errors).toBeUndefined();
    const fresh = rotated.body.data?.rotateSigningKey as Record<string, unknown>;
    expect(fresh).toMatchObject({
      alg: 'ES256',
      status: 'ACTIVE',
      retiredAt: null,
      publishUntil: null,
    });
    expect(fresh.kid).not.toBe(before.kid);
    expect(Object.keys(fresh).sort()).toEqual(SIGNING_KEY_FIELDS.split(' ').sort());

    const list = await a.graphql(`{ signingKeys { ${SIGNING_KEY_FIELDS} } }`, adminToken);
    const keys = list.body.data?.signingKeys as Record<string, string | null>[];
    expect(keys.map((k) => [k.kid, k.status])).toEqual([
      [fresh.kid, 'ACTIVE'],
      [before.kid, 'RETIRED'],
    ]);
    const old = keys[1];
    const windowMs = Date.parse(old.publishUntil!) - Date.parse(old.retiredAt!);
    expect(windowMs).toBe((a.config.oauth.accessTokenTtlSeconds + 120) * 1000);

    const rows = await keysOf(a.databaseUrl);
    expect(rows.filter((r) => r.status === 'ACTIVE').map((r) => r.kid)).toEqual([fresh.kid]);

    // Node A publishes both and signs with the new key.
    expect((await jwksOf(a)).keys.map((k) => k.kid)).toEqual([fresh.kid, before.kid]);
    const newToken = await a.app.get(SigningKeysService).sign(claims('new'), 'at+jwt');
    expect(newToken.kid).toBe(fresh.kid);
    await expect(verifyAgainstJwks(a, oldToken)).resolves.toBeDefined();
    await expect(verifyAgainstJwks(a, newToken.token)).resolves.toBeDefined();

    // Node B (no shared bus here) learns the new kid when asked for it.
    const vk = await b.app.get(SigningKeysService).verificationKey(fresh.kid as string);
    expect(vk).toBeDefined();
    await expect(jwtVerify(newToken.token, vk!.key)).resolves.toBeDefined();
    expect((await jwksOf(b)).keys.map((k) => k.kid)).toEqual([fresh.kid, before.kid]);
  });

  it('stops publishing and accepting a retired key after its publication window', async () => {
    const keys = a.app.get(SigningKeysService);
    const retired = (await keysOf(a.databaseUrl)).find((r) => r.status === 'RETIRED')!;
    await query(
      a.databaseUrl,
      "UPDATE signing_keys SET publish_until = now() + interval '1 second' WHERE kid = $1",
      [retired.kid],
    );
    await (keys as unknown as { reload(): Promise<void> }).reload();
    expect(await keys.verificationKey(retired.kid)).toBeDefined();
    await new Promise((r) => setTimeout(r, 1200));
    expect(keys.publicJwks().keys.map((k) => k.kid)).not.toContain(retired.kid);
    expect((await jwksOf(a)).keys).toHaveLength(1);
    await expect(keys.verificationKey(retired.kid)).resolves.toBeUndefined();
  });
});

describe('signing keys across nodes on Redis', () => {
  let stub: JwksStub;
  let redis: RedisServer;
  let a: RunningBridgekeeper;
  let b: RunningBridgekeeper;

  beforeAll(async () => {
    [stub, redis] = await Promise.all([JwksStub.start(), startRedis()]);
    const options: StartOptions = {
      issuers: [{ name: 'stub', issuer: stub.issuer, jwks: stub.jwksUrl, audiences: AUD }],
      databaseUrl: await createTestDatabase(),
      redisUrl: redis.url,
      properties: { 'bridgekeeper.secrets.key': SECRETS_KEY },
    };
    a = await startBridgekeeper(options);
    b = await startBridgekeeper(options);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await Promise.all([redis?.stop(), stub?.stop()]);
  });

  it('a rotation on one node reaches the other at once: it publishes and signs with the new key', async () => {
    const info = await a.app.get(SigningKeysService).rotate();
    const keysB = b.app.get(SigningKeysService);
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && !keysB.publicJwks().keys.some((k) => k.kid === info.kid)) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(keysB.publicJwks().keys.map((k) => k.kid)).toContain(info.kid);
    expect((await keysB.sign(claims(), 'at+jwt')).kid).toBe(info.kid);
  });
});

describe('signing keys with RS256 and scheduled rotation', () => {
  let stub: JwksStub;
  let bk: RunningBridgekeeper;

  beforeAll(async () => {
    stub = await JwksStub.start();
    bk = await startBridgekeeper({
      issuers: [{ name: 'stub', issuer: stub.issuer, jwks: stub.jwksUrl, audiences: AUD }],
      properties: {
        'bridgekeeper.oauth.signing.algorithm': 'RS256',
        'bridgekeeper.oauth.signing.rotation.seconds': '2',
        // Empty counts as unset: the development key is generated in the data dir.
        'bridgekeeper.secrets.key': '',
      },
    });
  });

  afterAll(async () => {
    await bk?.close();
    await stub?.stop();
  });

  it('creates, publishes and signs with an RSA key (development secrets key generated in the data dir)', async () => {
    const { keys } = await jwksOf(bk);
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0]).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    const { token } = await bk.app.get(SigningKeysService).sign(claims(), 'at+jwt');
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    await expect(verifyAgainstJwks(bk, token)).resolves.toBeDefined();
    expect(bk.logs.join('\n')).toMatch(/development secrets key/);
  });

  it('rotates on schedule, keeping the old key published', async () => {
    const first = (await keysOf(bk.databaseUrl))[0].kid;
    const deadline = Date.now() + 10_000;
    let rows = await keysOf(bk.databaseUrl);
    while (Date.now() < deadline && rows.length < 2) {
      await new Promise((r) => setTimeout(r, 250));
      rows = await keysOf(bk.databaseUrl);
    }
    expect(rows.filter((r) => r.status === 'ACTIVE')).toHaveLength(1);
    expect(rows.find((r) => r.kid === first)).toMatchObject({ status: 'RETIRED' });
    const kids = bk.app
      .get(SigningKeysService)
      .publicJwks()
      .keys.map((k) => k.kid);
    expect(kids).toContain(first);
    expect(kids.length).toBeGreaterThanOrEqual(2);
  });
});
