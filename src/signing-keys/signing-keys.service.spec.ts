import type { AuditService } from 'src/audit/audit.service';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { MemoryClusterBus } from 'src/cache/cluster-bus';
import { AppError } from 'src/common/errors/app-error';
import type { AppConfig } from 'src/config/config.types';
import { SecretsService } from 'src/secrets/secrets.service';
import {
  generateSigningKey,
  importPrivateKey,
  KID_PATTERN,
  newKid,
  privateKeyAad,
  publicJwk,
} from 'src/signing-keys/signing-key-material';
import {
  JWKS_CACHE_CONTROL,
  JWKS_MAX_AGE_SECONDS,
  NEXT_KEY_MIN_PUBLISHED_SECONDS,
} from 'src/signing-keys/signing-keys.constants';
import { planRotation, SigningKeysService } from 'src/signing-keys/signing-keys.service';

// Key material and failure mapping without a database; the full lifecycle runs in
// test/e2e/signing-keys.e2e-spec.ts against a real PostgreSQL.

const config = {
  mode: 'development',
  dataDir: '/nonexistent',
  oauth: {
    secretsKey: 'unit-test-signing-keys-secrets-key-0123456789',
    signingAlgorithm: 'ES256',
    signingRotationSeconds: 0,
    accessTokenTtlSeconds: 300,
  },
} as unknown as AppConfig;
const logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
} as unknown as Logger;

function service(dataSource: Partial<DataSource>): SigningKeysService {
  return new SigningKeysService(
    dataSource as DataSource,
    new SecretsService(config, logger),
    new MemoryClusterBus(),
    config,
    logger,
    { record: () => Promise.resolve() } as unknown as AuditService,
  );
}

async function expectUnavailable(p: Promise<unknown>): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).kind).toBe('UNAVAILABLE');
}

describe('signing key material', () => {
  it('mints random base64url kids of 16 bytes', () => {
    const kids = new Set(Array.from({ length: 100 }, newKid));
    expect(kids.size).toBe(100);
    for (const k of kids) {
      expect(k).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(KID_PATTERN.test(k)).toBe(true);
    }
  });

  it.each(['ES256', 'RS256'] as const)('publishes only public members of %s keys', async (alg) => {
    const k = await generateSigningKey(alg);
    expect(k.privateJwk.d).toEqual(expect.any(String));
    expect(k.publicJwk).toEqual(
      alg === 'ES256'
        ? {
            kty: 'EC',
            crv: 'P-256',
            x: k.privateJwk.x,
            y: k.privateJwk.y,
            kid: k.kid,
            alg,
            use: 'sig',
          }
        : { kty: 'RSA', n: k.privateJwk.n, e: k.privateJwk.e, kid: k.kid, alg, use: 'sig' },
    );
    expect(publicJwk(k.privateJwk, k.kid, alg)).toEqual(k.publicJwk);
    expect((await importPrivateKey(k.privateJwk, k.publicJwk, k.kid, alg)).type).toBe('private');
  });

  it('refuses a private key that is not the private half of the published key, or of the wrong type', async () => {
    const [a, b] = await Promise.all([generateSigningKey('ES256'), generateSigningKey('ES256')]);
    await expect(importPrivateKey(a.privateJwk, b.publicJwk, b.kid, 'ES256')).rejects.toThrow(
      /does not match/,
    );
    await expect(importPrivateKey(a.publicJwk, a.publicJwk, a.kid, 'ES256')).rejects.toThrow(
      /does not match/,
    );
    expect(() => publicJwk(a.publicJwk, a.kid, 'RS256')).toThrow(/RSA/);
  });
});

describe('rotation rule', () => {
  it('shares the JWKS max-age between the Cache-Control header and the promotion rule', () => {
    expect(JWKS_CACHE_CONTROL).toBe(`public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    expect(NEXT_KEY_MIN_PUBLISHED_SECONDS).toBeGreaterThan(JWKS_MAX_AGE_SECONDS);
  });

  it('promotes a NEXT key published for at least the JWKS max-age plus the margin', () => {
    for (const scheduled of [true, false]) {
      expect(planRotation(scheduled, NEXT_KEY_MIN_PUBLISHED_SECONDS)).toBe('promote');
      expect(planRotation(scheduled, 86_400)).toBe('promote');
    }
  });

  it('on schedule, waits for a recent NEXT key (relying parties may not have it yet)', () => {
    expect(planRotation(true, 0)).toBe('wait');
    expect(planRotation(true, JWKS_MAX_AGE_SECONDS)).toBe('wait');
    expect(planRotation(true, NEXT_KEY_MIN_PUBLISHED_SECONDS - 0.5)).toBe('wait');
  });

  it('for an admin (emergency lever), promotes a recent NEXT key at once', () => {
    expect(planRotation(false, 0)).toBe('promote_early');
    expect(planRotation(false, NEXT_KEY_MIN_PUBLISHED_SECONDS - 0.5)).toBe('promote_early');
  });

  it('without a NEXT key: on schedule publishes one first; an admin gets a fresh ACTIVE key at once', () => {
    expect(planRotation(true, undefined)).toBe('create_next');
    expect(planRotation(false, undefined)).toBe('activate_fresh');
  });
});

describe('SigningKeysService without a database', () => {
  const failing = () => {
    const err = Object.assign(new Error('relation "signing_keys" does not exist'), {
      code: '42P01',
    });
    return {
      query: jest.fn().mockRejectedValue(err),
      transaction: jest.fn().mockRejectedValue(err),
    } as unknown as Partial<DataSource>;
  };

  it('turns any database failure into a 503, never a 500 nor "no key"', async () => {
    const keys = service(failing());
    await expectUnavailable(keys.onApplicationBootstrap());
    await expectUnavailable(keys.list());
    await expectUnavailable(keys.rotate());
    await expectUnavailable(keys.verificationKey('some-unknown-kid'));
  });

  it('refuses to sign (503) before a key is loaded, and publishes nothing', async () => {
    const keys = service(failing());
    await expectUnavailable(keys.sign({ sub: 'x' }, 'at+jwt'));
    expect(keys.publicJwks()).toEqual({ keys: [] });
    expect(keys.algorithms()).toEqual([]);
  });

  it('never queries the database for a malformed kid', async () => {
    const ds = failing();
    const keys = service(ds);
    await expect(keys.verificationKey('../../etc/passwd')).resolves.toBeUndefined();
    await expect(keys.verificationKey('k'.repeat(65))).resolves.toBeUndefined();
    expect(ds.query).not.toHaveBeenCalled();
  });

  it('asks the database about unknown kids at most once per 5 s', async () => {
    const query = jest.fn().mockResolvedValue([]);
    const keys = service({ query } as unknown as Partial<DataSource>);
    await Promise.all([keys.verificationKey('unknown-1'), keys.verificationKey('unknown-2')]);
    await keys.verificationKey('unknown-3');
    expect(query).toHaveBeenCalledTimes(1);
  });

  async function keyRow(status: 'ACTIVE' | 'NEXT', secrets: SecretsService) {
    const k = await generateSigningKey('ES256');
    return {
      kid: k.kid,
      alg: 'ES256',
      status,
      public_jwk: k.publicJwk,
      private_key_encrypted: secrets.encrypt(JSON.stringify(k.privateJwk), privateKeyAad(k.kid)),
      created_at: new Date(),
      activated_at: status === 'ACTIVE' ? new Date() : null,
      retired_at: null,
      publish_until: null,
    };
  }
  const thisNode = new SecretsService(config, logger);
  const otherNode = new SecretsService(
    {
      ...config,
      oauth: { ...config.oauth, secretsKey: 'another-nodes-secrets-key-0123456789abcdef' },
    },
    logger,
  );

  it.each([
    ['active', 'ACTIVE'],
    ['next', 'NEXT'],
  ] as const)(
    "refuses to start, saying why, when the %s key does not decrypt with this node's secrets key",
    async (name, status) => {
      const rows = [
        await keyRow('ACTIVE', status === 'ACTIVE' ? otherNode : thisNode),
        await keyRow('NEXT', status === 'NEXT' ? otherNode : thisNode),
      ];
      const keys = service({
        query: jest.fn().mockResolvedValue(rows),
      } as unknown as Partial<DataSource>);
      const err = (await keys.onApplicationBootstrap().catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(
        new RegExp(
          `the ${name} signing key .* does not decrypt with this node's bridgekeeper.secrets.key`,
        ),
      );
      for (const r of rows) expect(err.message).not.toContain(r.private_key_encrypted);
      keys.onApplicationShutdown();
    },
  );

  it('publishes the ACTIVE and the NEXT key, signs only with the ACTIVE one, and accepts both', async () => {
    const rows = [await keyRow('ACTIVE', thisNode), await keyRow('NEXT', thisNode)];
    const query = jest.fn().mockResolvedValue(rows);
    const keys = service({ query } as unknown as Partial<DataSource>);
    await keys.onApplicationBootstrap();
    try {
      expect(keys.publicJwks().keys.map((k) => k.kid)).toEqual([rows[0].kid, rows[1].kid]);
      for (let i = 0; i < 5; i++)
        expect((await keys.sign({ sub: 'x' }, 'at+jwt')).kid).toBe(rows[0].kid);
      expect(await keys.verificationKey(rows[1].kid)).toMatchObject({ alg: 'ES256' });
      // Both were known: no reload was needed (one query for ensureKeys, one for the load).
      expect(query).toHaveBeenCalledTimes(2);
    } finally {
      keys.onApplicationShutdown();
    }
  });
});
