import { createLocalJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import type { Logger } from 'pino';
import type { AppConfig } from 'src/config/config.types';
import { SecretsService } from 'src/secrets/secrets.service';
import { privateKeyAad } from 'src/signing-keys/signing-key-material';
import { JWKS_CACHE_CONTROL } from 'src/signing-keys/signing-keys.constants';
import { SigningKeysService } from 'src/signing-keys/signing-keys.service';
import {
  startBridgekeeper,
  type RunningBridgekeeper,
  type StartOptions,
} from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';
import { createTestDatabase, query } from '../support/postgres';
import { startRedis, type RedisServer } from '../support/redis';

// Bridgekeeper's own signing keys (SECURITY.md rules 10, 14, 15): one ACTIVE and one NEXT key however
// many nodes start together, private halves encrypted at rest, a public JWKS that pre-publishes the next
// key, admin-only rotation with overlap, and every node learning a rotation made on another one.
jest.setTimeout(60_000);
const AUD = 'bk-signing-keys';
const ISS = 'https://bridgekeeper.test';
const SECRETS_KEY = 'e2e-signing-keys-secrets-key-0123456789abcdef';
const OTHER_SECRETS_KEY = 'e2e-some-other-secrets-key-0123456789abcdef';
const SIGNING_KEY_FIELDS = 'kid alg status createdAt activatedAt retiredAt publishUntil';
const EARLY_ROTATION_WARNING = 'signing key rotated before the new key had been published';

interface KeyRow extends Record<string, unknown> {
  kid: string;
  alg: string;
  status: string;
  public_jwk: JWK;
  private_key_encrypted: string;
  activated_at: Date | null;
  retired_at: Date | null;
  publish_until: Date | null;
}

const keysOf = (url: string) =>
  query<KeyRow>(url, 'SELECT * FROM signing_keys ORDER BY created_at, kid');
const withStatus = async (url: string, status: string) =>
  (await keysOf(url)).filter((r) => r.status === status);

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

async function verifyAgainstJwks(bk: RunningBridgekeeper | { keys: JWK[] }, token: string) {
  const jwks = 'keys' in bk ? bk : await jwksOf(bk);
  return jwtVerify(token, createLocalJWKSet(jwks), {
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

  it('two nodes starting together create exactly one ACTIVE and one NEXT key, and both publish both', async () => {
    const rows = await keysOf(a.databaseUrl);
    expect(rows).toHaveLength(2);
    const active = rows.find((r) => r.status === 'ACTIVE')!;
    const next = rows.find((r) => r.status === 'NEXT')!;
    expect(active).toMatchObject({ alg: 'ES256', retired_at: null, publish_until: null });
    expect(active.activated_at).toBeInstanceOf(Date);
    expect(next).toMatchObject({
      alg: 'ES256',
      activated_at: null,
      retired_at: null,
      publish_until: null,
    });
    for (const r of rows) expect(r.kid).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const [ja, jb] = [await jwksOf(a), await jwksOf(b)];
    expect(ja).toEqual(jb);
    expect(ja.keys.map((k) => k.kid)).toEqual([active.kid, next.kid]);
  });

  it('serves the JWKS publicly with only public members, cacheable for 5 minutes', async () => {
    const res = await a.get('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('cache-control')).toBe(JWKS_CACHE_CONTROL);
    const { keys } = (await res.json()) as { keys: JWK[] };
    expect(keys).toHaveLength(2);
    for (const k of keys) {
      expect(Object.keys(k).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    }
  });

  it.each(['ACTIVE', 'NEXT'])(
    'stores the %s private key encrypted: only the right secrets key and kid decrypt it',
    async (status) => {
      const [row] = await withStatus(a.databaseUrl, status);
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
    },
  );

  it('signs with the ACTIVE kid only; the NEXT key is published and accepted but never signs', async () => {
    const [active] = await withStatus(a.databaseUrl, 'ACTIVE');
    const [next] = await withStatus(a.databaseUrl, 'NEXT');
    for (const node of [a, b]) {
      const keys = node.app.get(SigningKeysService);
      for (let i = 0; i < 5; i++) {
        const signed = await keys.sign(claims(`s${i}`), i % 2 ? 'JWT' : 'at+jwt');
        expect(signed.kid).toBe(active.kid);
        expect(decodeProtectedHeader(signed.token).kid).toBe(active.kid);
      }
      expect(await keys.verificationKey(next.kid)).toMatchObject({ alg: 'ES256' });
    }
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
    expect(await keysOf(a.databaseUrl)).toHaveLength(2);
  });

  it('rotates for an admin: the pre-published NEXT key signs (a JWKS cached before already has it), a new NEXT appears, the old key is retired but still published', async () => {
    const [before] = await withStatus(a.databaseUrl, 'ACTIVE');
    const [next] = await withStatus(a.databaseUrl, 'NEXT');
    // What a relying party cached before the rotation.
    const cached = await jwksOf(a);
    expect(cached.keys.map((k) => k.kid)).toEqual([before.kid, next.kid]);
    const oldToken = (await a.app.get(SigningKeysService).sign(claims('old'), 'at+jwt')).token;

    const rotated = await a.graphql(
      `mutation { rotateSigningKey { ${SIGNING_KEY_FIELDS} } }`,
      adminToken,
    );
    expect(rotated.body.errors).toBeUndefined();
    const fresh = rotated.body.data?.rotateSigningKey as Record<string, unknown>;
    expect(fresh).toMatchObject({
      kid: next.kid,
      alg: 'ES256',
      status: 'ACTIVE',
      retiredAt: null,
      publishUntil: null,
    });
    expect(fresh.activatedAt).toEqual(expect.any(String));
    expect(Object.keys(fresh).sort()).toEqual(SIGNING_KEY_FIELDS.split(' ').sort());
    // The NEXT key had been published for seconds only: the admin lever still acts at once, with a warning.
    expect(a.logs.filter((l) => l.includes(EARLY_ROTATION_WARNING))).toHaveLength(1);

    const rows = await keysOf(a.databaseUrl);
    expect(rows.filter((r) => r.status === 'ACTIVE').map((r) => r.kid)).toEqual([next.kid]);
    const newNext = rows.filter((r) => r.status === 'NEXT');
    expect(newNext).toHaveLength(1);
    expect([before.kid, next.kid]).not.toContain(newNext[0].kid);

    const list = await a.graphql(`{ signingKeys { ${SIGNING_KEY_FIELDS} } }`, adminToken);
    const keys = list.body.data?.signingKeys as Record<string, string | null>[];
    expect(keys.map((k) => [k.kid, k.status])).toEqual([
      [newNext[0].kid, 'NEXT'],
      [next.kid, 'ACTIVE'],
      [before.kid, 'RETIRED'],
    ]);
    const old = keys[2];
    const windowMs = Date.parse(old.publishUntil!) - Date.parse(old.retiredAt!);
    expect(windowMs).toBe((a.config.oauth.accessTokenTtlSeconds + 120) * 1000);

    // Node A publishes all three and signs with the promoted key.
    expect((await jwksOf(a)).keys.map((k) => k.kid)).toEqual([
      next.kid,
      newNext[0].kid,
      before.kid,
    ]);
    const newToken = await a.app.get(SigningKeysService).sign(claims('new'), 'at+jwt');
    expect(newToken.kid).toBe(next.kid);
    await expect(verifyAgainstJwks(a, oldToken)).resolves.toBeDefined();
    await expect(verifyAgainstJwks(a, newToken.token)).resolves.toBeDefined();
    // A relying party that fetched the JWKS before the rotation verifies the new tokens without a refetch.
    await expect(verifyAgainstJwks(cached, newToken.token)).resolves.toBeDefined();

    // Node B (no shared bus here) already accepts the promoted key, and catches up on reload.
    const keysB = b.app.get(SigningKeysService);
    const vk = await keysB.verificationKey(next.kid);
    expect(vk).toBeDefined();
    await expect(jwtVerify(newToken.token, vk!.key)).resolves.toBeDefined();
    await (keysB as unknown as { reload(): Promise<void> }).reload();
    expect((await jwksOf(b)).keys.map((k) => k.kid)).toEqual([
      next.kid,
      newNext[0].kid,
      before.kid,
    ]);
    expect((await keysB.sign(claims(), 'at+jwt')).kid).toBe(next.kid);
  });

  it('an admin rotation after the NEXT key has been published for the JWKS max-age plus margin logs no warning', async () => {
    const [next] = await withStatus(a.databaseUrl, 'NEXT');
    await query(
      a.databaseUrl,
      "UPDATE signing_keys SET created_at = created_at - interval '1 hour' WHERE kid = $1",
      [next.kid],
    );
    const warnings = a.logs.filter((l) => l.includes(EARLY_ROTATION_WARNING)).length;
    const info = await a.app.get(SigningKeysService).rotate();
    expect(info).toMatchObject({ kid: next.kid, status: 'ACTIVE' });
    expect(a.logs.filter((l) => l.includes(EARLY_ROTATION_WARNING))).toHaveLength(warnings);
    expect(await withStatus(a.databaseUrl, 'ACTIVE')).toHaveLength(1);
    expect(await withStatus(a.databaseUrl, 'NEXT')).toHaveLength(1);
    expect(await withStatus(a.databaseUrl, 'RETIRED')).toHaveLength(2);
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
    expect((await jwksOf(a)).keys.map((k) => k.kid)).not.toContain(retired.kid);
    await expect(keys.verificationKey(retired.kid)).resolves.toBeUndefined();
  });

  it('a database with an ACTIVE key but no NEXT key (from before NEXT keys) gets a NEXT key at start', async () => {
    const [active] = await withStatus(a.databaseUrl, 'ACTIVE');
    await query(a.databaseUrl, "DELETE FROM signing_keys WHERE status = 'NEXT'");
    const [c, d] = await Promise.all([startBridgekeeper(options), startBridgekeeper(options)]);
    try {
      expect((await withStatus(a.databaseUrl, 'ACTIVE')).map((r) => r.kid)).toEqual([active.kid]);
      const next = await withStatus(a.databaseUrl, 'NEXT');
      expect(next).toHaveLength(1);
      for (const node of [c, d]) {
        expect((await jwksOf(node)).keys.map((k) => k.kid).slice(0, 2)).toEqual([
          active.kid,
          next[0].kid,
        ]);
        expect((await node.app.get(SigningKeysService).sign(claims(), 'at+jwt')).kid).toBe(
          active.kid,
        );
      }
    } finally {
      await Promise.all([c.close(), d.close()]);
    }
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

  it('a rotation on one node reaches the other at once: it publishes the new NEXT key and signs with the promoted one', async () => {
    const keysB = b.app.get(SigningKeysService);
    const [next] = await withStatus(a.databaseUrl, 'NEXT');
    expect(keysB.publicJwks().keys.map((k) => k.kid)).toContain(next.kid);
    const info = await a.app.get(SigningKeysService).rotate();
    expect(info.kid).toBe(next.kid);
    const [newNext] = await withStatus(a.databaseUrl, 'NEXT');
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && !keysB.publicJwks().keys.some((k) => k.kid === newNext.kid)) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(keysB.publicJwks().keys.map((k) => k.kid)).toEqual(
      a.app
        .get(SigningKeysService)
        .publicJwks()
        .keys.map((k) => k.kid),
    );
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
    expect(keys).toHaveLength(2);
    for (const k of keys) {
      expect(Object.keys(k).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
      expect(k).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    }
    const { token } = await bk.app.get(SigningKeysService).sign(claims(), 'at+jwt');
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    await expect(verifyAgainstJwks(bk, token)).resolves.toBeDefined();
    expect(bk.logs.join('\n')).toMatch(/development secrets key/);
  });

  it('rotates on schedule only once the NEXT key has been published long enough, keeping the old key published', async () => {
    const [first] = await withStatus(bk.databaseUrl, 'ACTIVE');
    const [next] = await withStatus(bk.databaseUrl, 'NEXT');
    // The ACTIVE key is due (2 s) but the NEXT key is seconds old: relying parties may not have it yet.
    await new Promise((r) => setTimeout(r, 4500));
    expect((await keysOf(bk.databaseUrl)).map((r) => [r.kid, r.status]).sort()).toEqual(
      [
        [first.kid, 'ACTIVE'],
        [next.kid, 'NEXT'],
      ].sort(),
    );
    // As if the NEXT key had been published for an hour.
    await query(
      bk.databaseUrl,
      "UPDATE signing_keys SET created_at = created_at - interval '1 hour' WHERE kid = $1",
      [next.kid],
    );
    await (bk.app.get(SigningKeysService) as unknown as { reload(): Promise<void> }).reload();
    const deadline = Date.now() + 10_000;
    let rows = await keysOf(bk.databaseUrl);
    while (Date.now() < deadline && rows.length < 3) {
      await new Promise((r) => setTimeout(r, 250));
      rows = await keysOf(bk.databaseUrl);
    }
    expect(rows.filter((r) => r.status === 'ACTIVE').map((r) => r.kid)).toEqual([next.kid]);
    expect(rows.filter((r) => r.status === 'NEXT')).toHaveLength(1);
    expect(rows.find((r) => r.kid === first.kid)).toMatchObject({ status: 'RETIRED' });
    expect(bk.logs.join('\n')).not.toContain(EARLY_ROTATION_WARNING);
    const keys = bk.app.get(SigningKeysService);
    const kids = keys.publicJwks().keys.map((k) => k.kid);
    expect(kids).toContain(first.kid);
    expect(kids).toHaveLength(3);
    expect((await keys.sign(claims(), 'at+jwt')).kid).toBe(next.kid);
  });
});
