import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, envNameOf, loadConfig } from 'src/config/config.loader';

const ISSUER = 'bridgekeeper.auth.jwt.trusted.issuer';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function dir(properties?: string): string {
  const d = mkdtempSync(join(tmpdir(), 'bk-config-'));
  dirs.push(d);
  if (properties !== undefined) writeFileSync(join(d, 'bridgekeeper.properties'), properties);
  return d;
}

function problems(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const corp = {
  BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUERS: 'corp',
  BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_CORP_ISSUER: 'https://login.example.com/realms/corp',
  BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_CORP_JWKS: 'https://login.example.com/certs',
  BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_CORP_AUDIENCES: 'api,cli',
};

describe('loadConfig', () => {
  it('has working defaults: embedded database, in-process cache, loopback on 3000', () => {
    const cwd = dir();
    const c = loadConfig({ env: {}, cwd });
    expect(c.http).toEqual({ host: '127.0.0.1', port: 3000, trustedProxies: [] });
    expect(c.publicUrl).toBe('http://127.0.0.1:3000');
    expect(c.warnings).toEqual([]);
    expect(c.database.url).toBeUndefined();
    expect(c.database.runMigrations).toBe(true);
    expect(c.redis.url).toBeUndefined();
    expect(c.dataDir).toBe(join(cwd, '.bridgekeeper'));
    expect(c.issuers).toEqual([]);
    expect(c.jwks).toEqual({ cooldownSeconds: 30, refreshSeconds: 300, maxStaleSeconds: 86400 });
  });

  it('maps every key to BRIDGEKEEPER_A_B_C', () => {
    expect(envNameOf('bridgekeeper.auth.jwt.trusted.issuer.corp.max.token.age')).toBe(
      'BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_CORP_MAX_TOKEN_AGE',
    );
  });

  it('reads an issuer with its defaults and explicit values', () => {
    const c = loadConfig({
      env: { ...corp, BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_CORP_PROVISIONING: 'existing' },
      cwd: dir(),
    });
    expect(c.issuers).toEqual([
      {
        name: 'corp',
        issuer: 'https://login.example.com/realms/corp',
        jwksUrl: 'https://login.example.com/certs',
        opaque: false,
        audiences: ['api', 'cli'],
        audiencesRequired: true,
        algorithms: ['RS256'],
        clockToleranceSeconds: 60,
        provisioning: 'existing',
        userinfoCredentials: false,
        emailMatching: false,
        source: 'config',
      },
    ]);
  });

  it('layers defaults < properties file < environment', () => {
    const cwd = dir('bridgekeeper.http.port=4000\nbridgekeeper.log.level=debug\n');
    const c = loadConfig({ env: { BRIDGEKEEPER_HTTP_PORT: '5000' }, cwd });
    expect(c.http.port).toBe(5000);
    expect(c.log.level).toBe('debug');
    expect(c.publicUrl).toBe('http://127.0.0.1:5000');
  });

  it('reads the file named by BRIDGEKEEPER_CONFIG, and says when it is missing', () => {
    const other = dir();
    writeFileSync(join(other, 'custom.properties'), 'bridgekeeper.http.port=4100\n');
    const c = loadConfig({
      env: { BRIDGEKEEPER_CONFIG: join(other, 'custom.properties') },
      cwd: dir('bridgekeeper.http.port=4000\n'),
    });
    expect(c.http.port).toBe(4100);
    expect(
      problems(() => loadConfig({ env: { BRIDGEKEEPER_CONFIG: 'nope.properties' }, cwd: other })),
    ).toMatch(/BRIDGEKEEPER_CONFIG: file not found/);
  });

  it('names every bad key in one message', () => {
    const message = problems(() =>
      loadConfig({
        env: {
          BRIDGEKEEPER_HTTP_PORT: 'eighty',
          BRIDGEKEEPER_LOG_LEVEL: 'loud',
          BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUERS: 'Corp,ok',
          BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_OK_ISSUER: 'https://ok.example.com',
          BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_OK_JWKS: 'not a url',
          BRIDGEKEEPER_REDIS_URLL: 'redis://x',
        },
        cwd: dir('bridgekeeper.unknown.key=1\n'),
      }),
    );
    expect(message).toMatch(/bridgekeeper\.http\.port/);
    expect(message).toMatch(/bridgekeeper\.log\.level/);
    expect(message).toMatch(/issuer name "Corp" must be lower-case letters and digits only/);
    expect(message).toMatch(new RegExp(`${ISSUER}\\.ok\\.jwks`));
    expect(message).toMatch(new RegExp(`${ISSUER}\\.ok\\.audiences`));
    expect(message).toMatch(/BRIDGEKEEPER_REDIS_URLL: unknown setting/);
    expect(message).toMatch(/bridgekeeper\.unknown\.key.*unknown setting/);
    expect(message).toMatch(/Invalid configuration \(7 problems\)/);
  });

  it('starts with the command line’s variables set (they are the CLI’s, not settings)', () => {
    const cli = {
      BRIDGEKEEPER_SERVER: 'https://bk.example.com',
      BRIDGEKEEPER_TOKEN: 'x',
      BRIDGEKEEPER_CLIENT_ID: 'ci',
      BRIDGEKEEPER_CLIENT_SECRET: 's',
      BRIDGEKEEPER_PRIVATE_KEY_FILE: '/k.pem',
    };
    expect(loadConfig({ env: cli, cwd: dir() }).publicUrl).toBe('http://127.0.0.1:3000');
    // A typo of one is still an unknown setting.
    expect(problems(() => loadConfig({ env: { BRIDGEKEEPER_TOKENS: 'x' }, cwd: dir() }))).toMatch(
      /BRIDGEKEEPER_TOKENS: unknown setting/,
    );
  });

  it('requires audiences unless audiences.required=false is explicit (SECURITY rule 2)', () => {
    const { BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_CORP_AUDIENCES: _omit, ...noAudience } = corp;
    expect(problems(() => loadConfig({ env: noAudience, cwd: dir() }))).toMatch(/has no audiences/);
    const c = loadConfig({
      env: { ...noAudience, BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_CORP_AUDIENCES_REQUIRED: 'false' },
      cwd: dir(),
    });
    expect(c.issuers[0].audiencesRequired).toBe(false);
  });

  it.each(['HS256', 'none', 'HS512'])('refuses the algorithm %s', (alg) => {
    expect(
      problems(() =>
        loadConfig({
          env: { ...corp, BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_CORP_ALGORITHMS: `RS256,${alg}` },
          cwd: dir(),
        }),
      ),
    ).toMatch(/asymmetric algorithms only/);
  });

  it('refuses two issuers with the same exact iss', () => {
    const env = {
      ...corp,
      BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUERS: 'corp,copy',
      BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_COPY_ISSUER:
        corp.BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_CORP_ISSUER,
      BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_COPY_JWKS: 'https://copy.example.com/certs',
      BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_COPY_AUDIENCES: 'api',
    };
    expect(problems(() => loadConfig({ env, cwd: dir() }))).toMatch(/same exact iss/);
  });

  it('reads admins as <issuer>:<sub> of a configured issuer', () => {
    const c = loadConfig({
      env: { ...corp, BRIDGEKEEPER_AUTH_ADMINS: 'corp:alice, corp:b:c' },
      cwd: dir(),
    });
    expect(c.admins).toEqual([
      { issuer: 'corp', subject: 'alice' },
      { issuer: 'corp', subject: 'b:c' },
    ]);
    const message = problems(() =>
      loadConfig({ env: { ...corp, BRIDGEKEEPER_AUTH_ADMINS: 'alice,google:bob' }, cwd: dir() }),
    );
    expect(message).toMatch(/bridgekeeper\.auth\.admins/);
    expect(message).toMatch(/google/);
  });

  it('refuses plain-http JWKS in production except on loopback', () => {
    const env = {
      ...corp,
      BRIDGEKEEPER_MODE: 'production',
      BRIDGEKEEPER_SECRETS_KEY: 'k'.repeat(10) + 'Zq3vX9pLm2Rt8wYb4nJh6Ds1',
      BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_CORP_JWKS: 'http://login.example.com/certs',
    };
    expect(problems(() => loadConfig({ env, cwd: dir() }))).toMatch(/must use https in production/);
    const loopback = {
      ...env,
      BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_CORP_JWKS: 'http://127.0.0.1:8080/certs',
    };
    expect(loadConfig({ env: loopback, cwd: dir() }).issuers[0].jwksUrl).toBe(
      'http://127.0.0.1:8080/certs',
    );
  });

  it('never prints a secret from a bad value', () => {
    const message = problems(() =>
      loadConfig({
        env: {
          BRIDGEKEEPER_DATABASE_URL: 'mysql://bk:s3cr3t-db-pass@db.internal/bk',
          BRIDGEKEEPER_REDIS_URL: 'http://:s3cr3t-redis-pass@redis.internal',
          BRIDGEKEEPER_HTTP_PORT: 's3cr3t-port',
        },
        cwd: dir(),
      }),
    );
    expect(message).toMatch(/bridgekeeper\.database\.url/);
    expect(message).toMatch(/bridgekeeper\.redis\.url/);
    expect(message).not.toMatch(/s3cr3t/);
  });

  describe('userinfo-validated issuers', () => {
    const ui = (name: string, extra: Record<string, string> = {}) => ({
      [`BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_${name.toUpperCase()}_ISSUER`]: `https://${name}.example.com`,
      [`BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_${name.toUpperCase()}_USERINFO`]: `https://${name}.example.com/userinfo`,
      ...extra,
    });

    it('needs no audiences when validated only through userinfo', () => {
      const c = loadConfig({
        env: { BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUERS: 'med', ...ui('med') },
        cwd: dir(),
      });
      expect(c.issuers[0]).toMatchObject({
        userinfoUrl: 'https://med.example.com/userinfo',
        audiencesRequired: false,
        opaque: false,
      });
      expect(c.issuers[0].jwksUrl).toBeUndefined();
    });

    it('needs a JWKS or a userinfo URL', () => {
      const env = {
        BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUERS: 'x',
        BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_X_ISSUER: 'https://x',
      };
      expect(problems(() => loadConfig({ env, cwd: dir() }))).toMatch(
        /needs a JWKS URL, a userinfo URL/,
      );
    });

    it('accepts opaque tokens for one issuer with a userinfo URL, never for two', () => {
      const one = loadConfig({
        env: {
          BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUERS: 'a',
          ...ui('a', { BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_A_OPAQUE: 'true' }),
        },
        cwd: dir(),
      });
      expect(one.issuers[0].opaque).toBe(true);
      const two = {
        BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUERS: 'a,b',
        ...ui('a', { BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_A_OPAQUE: 'true' }),
        ...ui('b', { BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_B_OPAQUE: 'true' }),
      };
      expect(problems(() => loadConfig({ env: two, cwd: dir() }))).toMatch(/at most one may/);
      const noUserinfo = { ...corp, BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_CORP_OPAQUE: 'true' };
      expect(problems(() => loadConfig({ env: noUserinfo, cwd: dir() }))).toMatch(
        /only be checked through a userinfo URL/,
      );
    });
  });

  describe('bridgekeeper.json', () => {
    const jsonDir = (doc: unknown) => {
      const d = dir();
      writeFileSync(
        join(d, 'bridgekeeper.json'),
        typeof doc === 'string' ? doc : JSON.stringify(doc),
      );
      return d;
    };

    it("reads the same keys, nested or flat, and Medplum's externalAuthProviders", () => {
      const cwd = jsonDir({
        bridgekeeper: { http: { port: 4200 } },
        'bridgekeeper.log.level': 'warn',
        externalAuthProviders: [
          {
            issuer: 'https://auth.example.com',
            userInfoUrl: 'https://auth.example.com/oauth2/userinfo',
          },
        ],
      });
      const c = loadConfig({ env: {}, cwd });
      expect(c.http.port).toBe(4200);
      expect(c.log.level).toBe('warn');
      expect(c.issuers).toHaveLength(1);
      expect(c.issuers[0]).toMatchObject({
        name: expect.stringMatching(/^ext[0-9a-f]{8}$/),
        issuer: 'https://auth.example.com',
        userinfoUrl: 'https://auth.example.com/oauth2/userinfo',
        audiencesRequired: false,
      });
      // The derived name is stable: actors keep their (issuer, sub) identity across restarts.
      expect(loadConfig({ env: {}, cwd }).issuers[0].name).toBe(c.issuers[0].name);
    });

    it('adds providers beside issuers configured with keys, and is chosen by BRIDGEKEEPER_CONFIG too', () => {
      const d = dir();
      writeFileSync(
        join(d, 'custom.json'),
        JSON.stringify({
          ...Object.fromEntries(
            Object.entries(corp).map(([k, v]) => [k.toLowerCase().replace(/_/g, '.'), v]),
          ),
          externalAuthProviders: [
            {
              name: 'medplum',
              issuer: 'https://m.example.com',
              userInfoUrl: 'https://m.example.com/ui',
            },
          ],
        }),
      );
      const c = loadConfig({ env: { BRIDGEKEEPER_CONFIG: 'custom.json' }, cwd: d });
      expect(c.issuers.map((i) => i.name)).toEqual(['corp', 'medplum']);
    });

    it('refuses invalid JSON without quoting it, bad providers, and two configuration files', () => {
      expect(
        problems(() =>
          loadConfig({
            env: {},
            cwd: jsonDir('{"bridgekeeper.database.url": "postgres://u:s3cr3t@h/db",'),
          }),
        ),
      ).toMatch(/not valid JSON/);
      expect(
        problems(() =>
          loadConfig({
            env: {},
            cwd: jsonDir('{"bridgekeeper.database.url": "postgres://u:s3cr3t@h/db",'),
          }),
        ),
      ).not.toMatch(/s3cr3t/);
      expect(
        problems(() =>
          loadConfig({ env: {}, cwd: jsonDir({ externalAuthProviders: [{ issuer: 'x' }] }) }),
        ),
      ).toMatch(/externalAuthProviders\[0\].*userInfoUrl/);
      const both = jsonDir({});
      writeFileSync(join(both, 'bridgekeeper.properties'), '');
      expect(problems(() => loadConfig({ env: {}, cwd: both }))).toMatch(/both exist/);
    });
  });
});
