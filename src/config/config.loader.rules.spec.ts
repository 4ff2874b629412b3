import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from 'src/config/config.loader';

// More loadConfig rules: per-issuer keys, issuer names, admins, unknown keys, one error for all
// problems, and no secret in any message (SECURITY rules 2 and 14).

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function dir(properties?: string): string {
  const d = mkdtempSync(join(tmpdir(), 'bk-config-rules-'));
  dirs.push(d);
  if (properties !== undefined) writeFileSync(join(d, 'bridgekeeper.properties'), properties);
  return d;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const P = 'bridgekeeper.auth.jwt.trusted.issuer.corp';
const E = 'BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_CORP';
const corpFile = [
  'bridgekeeper.auth.jwt.trusted.issuers=corp',
  `${P}.issuer=https://login.example.com/realms/corp`,
  `${P}.jwks=https://login.example.com/certs`,
  `${P}.audiences=api`,
].join('\n');

describe('loadConfig sources', () => {
  it('puts overrides between the file and the environment', () => {
    const cwd = dir('bridgekeeper.http.port=4000\nbridgekeeper.log.level=debug\n');
    const overrides = { 'bridgekeeper.http.port': '4500', 'bridgekeeper.log.level': 'warn' };
    expect(loadConfig({ env: {}, cwd, overrides }).http.port).toBe(4500);
    const c = loadConfig({ env: { BRIDGEKEEPER_LOG_LEVEL: 'error' }, cwd, overrides });
    expect(c.http.port).toBe(4500);
    expect(c.log.level).toBe('error');
  });

  it('reads properties syntax: comments, ":" separators, spaces around "="', () => {
    const cwd = dir(
      [
        '# a comment',
        '! another comment',
        'bridgekeeper.http.port : 4321',
        'bridgekeeper.http.host = 0.0.0.0',
        'bridgekeeper.public.url=https://bk.example.com/',
      ].join('\n'),
    );
    const c = loadConfig({ env: {}, cwd });
    expect(c.http).toEqual({ host: '0.0.0.0', port: 4321, trustedProxies: [] });
    // The trailing slash is dropped so URLs can be joined.
    expect(c.publicUrl).toBe('https://bk.example.com');
  });

  it('resolves BRIDGEKEEPER_CONFIG relative to cwd and ignores bridgekeeper.properties then', () => {
    const cwd = dir('bridgekeeper.http.port=4000\n');
    writeFileSync(join(cwd, 'other.properties'), 'bridgekeeper.log.level=trace\n');
    const c = loadConfig({ env: { BRIDGEKEEPER_CONFIG: 'other.properties' }, cwd });
    expect(c.log.level).toBe('trace');
    expect(c.http.port).toBe(3000);
  });

  it('resolves a relative data dir against cwd', () => {
    const cwd = dir('bridgekeeper.data.dir=var/bk\n');
    expect(loadConfig({ env: {}, cwd }).dataDir).toBe(join(cwd, 'var/bk'));
  });
});

describe('loadConfig trusted issuers', () => {
  it('reads every per-issuer key from the file', () => {
    const cwd = dir(
      [
        corpFile,
        `${P}.audiences=api, cli ,,web`,
        `${P}.algorithms=ES256,PS384`,
        `${P}.clock.tolerance=5`,
        `${P}.max.token.age=3600`,
        `${P}.provisioning=existing`,
        `${P}.fhir.base=https://fhir.example.com/R4/`,
        `${P}.userinfo.credentials=true`,
        `${P}.email.matching=true`,
      ].join('\n'),
    );
    expect(loadConfig({ env: {}, cwd }).issuers[0]).toEqual({
      name: 'corp',
      issuer: 'https://login.example.com/realms/corp',
      jwksUrl: 'https://login.example.com/certs',
      opaque: false,
      audiences: ['api', 'cli', 'web'],
      audiencesRequired: true,
      algorithms: ['ES256', 'PS384'],
      clockToleranceSeconds: 5,
      maxTokenAgeSeconds: 3600,
      provisioning: 'existing',
      fhirBase: 'https://fhir.example.com/R4',
      userinfoCredentials: true,
      emailMatching: true,
      source: 'config',
    });
  });

  describe('oauth and secrets (issue 4)', () => {
    const prod = { BRIDGEKEEPER_MODE: 'production' };
    it('has safe defaults: ES256, 5 min access and ID tokens, 60 s codes, 30 day rotation, audience = public URL', () => {
      const c = loadConfig({ env: {}, cwd: dir() });
      expect(c.oauth).toEqual({
        signingAlgorithm: 'ES256',
        signingRotationSeconds: 30 * 86400,
        audience: 'http://127.0.0.1:3000',
        accessTokenTtlSeconds: 300,
        refreshTokenTtlSeconds: 30 * 86400,
        codeTtlSeconds: 60,
        idTokenTtlSeconds: 300,
        deviceCodeTtlSeconds: 600,
        deviceIntervalSeconds: 5,
        registration: { enabled: true, maxPerHour: 20, unusedTtlSeconds: 86400 },
        clientMetadata: { enabled: true, allowedHosts: [] },
      });
    });

    it('refuses an API audience that is the MCP endpoint (tokens of one would pass at the other)', () => {
      const env = { BRIDGEKEEPER_OAUTH_AUDIENCE: 'http://127.0.0.1:3000/mcp' };
      expect(configError(() => loadConfig({ env, cwd: dir() })).message).toMatch(
        /bridgekeeper\.oauth\.audience.*MCP endpoint/,
      );
    });

    it('requires bridgekeeper.secrets.key in production mode', () => {
      expect(configError(() => loadConfig({ env: prod, cwd: dir() })).message).toMatch(
        /bridgekeeper\.secrets\.key .*is required in production mode/,
      );
    });

    it.each([
      'change-me-change-me-change-me-change-me',
      'x'.repeat(40),
      'please-replace-me-with-32-random-bytes',
    ])('refuses the placeholder secrets key %s in production, without printing it', (key) => {
      const message = configError(() =>
        loadConfig({ env: { ...prod, BRIDGEKEEPER_SECRETS_KEY: key }, cwd: dir() }),
      ).message;
      expect(message).toMatch(/looks like a placeholder/);
      expect(message).not.toContain(key);
    });

    it('refuses a short secrets key in any mode, and accepts a random one in production', () => {
      expect(
        configError(() => loadConfig({ env: { BRIDGEKEEPER_SECRETS_KEY: 'short' }, cwd: dir() }))
          .message,
      ).toMatch(/at least 32 characters/);
      const key = 'q8Vn2Kx7Lp4Rt9Wz3Ym6Bc1Hd5Jf0Gs=';
      expect(
        loadConfig({ env: { ...prod, BRIDGEKEEPER_SECRETS_KEY: key }, cwd: dir() }).oauth
          .secretsKey,
      ).toBe(key);
    });
  });

  it('defaults to RS256, 60 s tolerance, jit provisioning and no maximum token age', () => {
    const issuer = loadConfig({ env: {}, cwd: dir(corpFile) }).issuers[0];
    expect(issuer.algorithms).toEqual(['RS256']);
    expect(issuer.clockToleranceSeconds).toBe(60);
    expect(issuer.provisioning).toBe('jit');
    expect(issuer.maxTokenAgeSeconds).toBeUndefined();
  });

  it('lets the environment override one per-issuer key of the file', () => {
    const c = loadConfig({ env: { [`${E}_CLOCK_TOLERANCE`]: '10' }, cwd: dir(corpFile) });
    expect(c.issuers[0].clockToleranceSeconds).toBe(10);
    expect(c.issuers[0].audiences).toEqual(['api']);
  });

  it.each(['Corp', 'corp-eu', 'corp_eu', 'corp.eu', 'cörp'])(
    'refuses the issuer name %s (lower-case letters and digits only)',
    (name) => {
      const e = configError(() =>
        loadConfig({ env: { BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUERS: name }, cwd: dir() }),
      );
      expect(e.message).toContain(`issuer name "${name}" must be lower-case letters and digits`);
    },
  );

  it('accepts digits in issuer names and refuses a name listed twice', () => {
    const env = {
      BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUERS: 'idp2',
      BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_IDP2_ISSUER: 'https://idp2.example.com',
      BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_IDP2_JWKS: 'https://idp2.example.com/jwks',
      BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_IDP2_AUDIENCES: 'api',
    };
    expect(loadConfig({ env, cwd: dir() }).issuers.map((i) => i.name)).toEqual(['idp2']);
    const twice = { ...env, BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUERS: 'idp2,idp2' };
    expect(configError(() => loadConfig({ env: twice, cwd: dir() })).message).toContain(
      'issuer "idp2" is listed twice',
    );
  });

  it('requires the iss value of a listed issuer', () => {
    const cwd = dir(corpFile.replace(/^.*\.issuer=.*$/m, ''));
    expect(configError(() => loadConfig({ env: {}, cwd })).message).toContain(
      `${P}.issuer (env ${E}_ISSUER): is required`,
    );
  });

  it('makes a missing audience list an error for a JWKS issuer, naming the opt-out key', () => {
    const cwd = dir(corpFile.replace(`${P}.audiences=api`, ''));
    const e = configError(() => loadConfig({ env: {}, cwd }));
    expect(e.problems).toHaveLength(1);
    expect(e.message).toContain(`${P}.audiences`);
    expect(e.message).toContain(`${P}.audiences.required=false`);
    const optedOut = loadConfig({ env: { [`${E}_AUDIENCES_REQUIRED`]: 'false' }, cwd });
    expect(optedOut.issuers[0]).toMatchObject({ audiences: [], audiencesRequired: false });
  });

  it('treats an empty or blank audience list as missing', () => {
    const e = configError(() =>
      loadConfig({ env: { [`${E}_AUDIENCES`]: ' , ' }, cwd: dir(corpFile) }),
    );
    expect(e.message).toMatch(/has no audiences/);
  });

  it.each([
    ['HS256', 'HS256'],
    ['HS384', 'HS384'],
    ['none', 'none'],
    ['rs256', 'rs256'],
    ['RS256,HS512', 'HS512'],
  ])('refuses algorithms=%s and names %s', (algs, bad) => {
    const e = configError(() =>
      loadConfig({ env: { [`${E}_ALGORITHMS`]: algs }, cwd: dir(corpFile) }),
    );
    expect(e.message).toContain(`${P}.algorithms (env ${E}_ALGORITHMS): ${bad} not allowed`);
  });

  it.each([
    ['clock.tolerance', '-1'],
    ['clock.tolerance', '601'],
    ['clock.tolerance', '1.5'],
    ['max.token.age', '0'],
    ['max.token.age', 'one hour'],
    ['provisioning', 'auto'],
    ['audiences.required', 'no'],
    ['jwks', 'ftp://login.example.com/certs'],
    ['jwks', '/certs'],
  ])('refuses %s=%s', (key, value) => {
    const e = configError(() =>
      loadConfig({ env: {}, cwd: dir(`${corpFile}\n${P}.${key}=${value}`) }),
    );
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toContain(`${P}.${key} `);
  });

  it('refuses per-issuer keys of an issuer that is not listed, with a hint', () => {
    const cwd = dir(`${corpFile}\nbridgekeeper.auth.jwt.trusted.issuer.other.issuer=https://o\n`);
    const e = configError(() =>
      loadConfig({ env: { BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_GHOST_JWKS: 'https://g' }, cwd }),
    );
    expect(e.problems).toEqual([
      expect.stringMatching(
        /^bridgekeeper\.auth\.jwt\.trusted\.issuer\.other\.issuer: unknown setting; per-issuer keys need the issuer listed .*\(now: corp\)$/,
      ),
      expect.stringMatching(
        /^env BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_GHOST_JWKS: unknown setting; per-issuer keys/,
      ),
    ]);
  });

  it('refuses an unknown per-issuer key of a listed issuer', () => {
    const e = configError(() =>
      loadConfig({ env: {}, cwd: dir(`${corpFile}\n${P}.audience=x\n`) }),
    );
    expect(e.message).toContain(`${P}.audience: unknown setting; did you mean \`${P}.audiences\`?`);
  });
});

describe('loadConfig admins', () => {
  it.each([':alice', 'corp:', 'alice', ':'])('refuses the malformed entry "%s"', (entry) => {
    const e = configError(() =>
      loadConfig({ env: { BRIDGEKEEPER_AUTH_ADMINS: entry }, cwd: dir(corpFile) }),
    );
    expect(e.message).toContain(`entry "${entry}" must be <issuerName>:<sub>`);
  });

  it('refuses an admin of an issuer that is not trusted', () => {
    const e = configError(() =>
      loadConfig({
        env: { BRIDGEKEEPER_AUTH_ADMINS: 'corp:alice,google:bob' },
        cwd: dir(corpFile),
      }),
    );
    expect(e.problems).toEqual([
      expect.stringContaining('names issuer "google", which is not a trusted issuer'),
    ]);
  });
});

describe('loadConfig errors', () => {
  it('throws one ConfigError listing every bad key from every source', () => {
    const cwd = dir(
      [
        corpFile,
        `${P}.algorithms=HS256`,
        `${P}.provisioning=sometimes`,
        'bridgekeeper.graphql.max.depth=1',
        'bridgekeeper.http.prot=80',
      ].join('\n'),
    );
    const e = configError(() =>
      loadConfig({
        env: {
          BRIDGEKEEPER_MODE: 'staging',
          BRIDGEKEEPER_DATABASE_POOL_SIZE: '0',
          BRIDGEKEEPER_OUTBOUND_ALLOW_LINK_LOCAL: 'yes',
          BRIDGEKEEPER_AUTH_ADMINS: 'nobody',
          BRIDGEKEEPER_LOGLEVEL: 'info',
        },
        cwd,
        overrides: { 'bridgekeeper.cache.memory.max.entries': 'lots' },
      }),
    );
    const expected = [
      `${P}.algorithms`,
      `${P}.provisioning`,
      'bridgekeeper.graphql.max.depth',
      'bridgekeeper.http.prot: unknown setting; did you mean `bridgekeeper.http.port`?',
      'bridgekeeper.mode',
      'bridgekeeper.database.pool.size',
      'bridgekeeper.outbound.allow.link.local',
      'bridgekeeper.auth.admins',
      'env BRIDGEKEEPER_LOGLEVEL: unknown setting; did you mean `BRIDGEKEEPER_LOG_LEVEL`?',
      'bridgekeeper.cache.memory.max.entries',
    ];
    for (const key of expected) expect(e.message).toContain(key);
    expect(e.problems).toHaveLength(expected.length);
    expect(e.message).toContain(`Invalid configuration (${expected.length} problems)`);
    expect(e.name).toBe('ConfigError');
  });

  it('says "1 problem" for a single problem', () => {
    const e = configError(() =>
      loadConfig({ env: { BRIDGEKEEPER_HTTP_PORT: '70000' }, cwd: dir() }),
    );
    expect(e.message).toBe(
      'Invalid configuration (1 problem):\n  - bridgekeeper.http.port (env BRIDGEKEEPER_HTTP_PORT): must be between 0 and 65535',
    );
  });

  it('refuses file keys without the bridgekeeper. prefix', () => {
    const e = configError(() => loadConfig({ env: {}, cwd: dir('server.port=80\n') }));
    expect(e.message).toContain('server.port (in ');
    expect(e.message).toContain('unknown key; keys start with "bridgekeeper."');
  });
});

describe('loadConfig never prints a secret', () => {
  const secret = 's3cr3t-Pa55';

  it.each([
    ['an unparsable database URL', `bridgekeeper.database.url=postgres://bk:${secret}@db:port/bk`],
    ['a database URL of the wrong scheme', `bridgekeeper.database.url=mysql://bk:${secret}@db/bk`],
    ['a redis URL of the wrong scheme', `bridgekeeper.redis.url=https://:${secret}@redis`],
    ['an unparsable redis URL', `bridgekeeper.redis.url=redis://:${secret}@[redis`],
    ['a misspelled database key', `bridgekeeper.database.uri=postgres://bk:${secret}@db/bk`],
    ['an env-style line in the file', `BRIDGEKEEPER_DATABASE_URL=postgres://bk:${secret}@db/bk`],
    ['a URL on a line of its own', `postgres://bk:${secret}@db/bk`],
    [
      'a URL wrapped onto a second line',
      `bridgekeeper.redis.url=redis://:${secret.slice(0, 3)}\n  ${secret.slice(3)}@redis.internal`,
    ],
    ['a password on a line of its own', `bridgekeeper.database.url=postgres://bk@db/bk\n${secret}`],
    ['a secret in a numeric setting', `bridgekeeper.http.port=${secret}`],
    ['a secret in a choice setting', `bridgekeeper.mode=${secret}`],
    ['a secret in a boolean setting', `bridgekeeper.database.migrations.run=${secret}`],
  ])('in the message for %s', (_what, line) => {
    const e = configError(() => loadConfig({ env: {}, cwd: dir(`${line}\n`) }));
    expect(e.problems.length).toBeGreaterThan(0);
    expect(e.message).not.toContain(secret);
    expect(e.message).not.toContain(secret.slice(3));
  });

  it('in the message for bad URLs given through the environment', () => {
    const e = configError(() =>
      loadConfig({
        env: {
          BRIDGEKEEPER_DATABASE_URL: `postgresql://bk:${secret}@db:99999999/bk`,
          BRIDGEKEEPER_REDIS_URL: `tcp://:${secret}@redis:6379`,
        },
        cwd: dir(),
      }),
    );
    expect(e.problems).toHaveLength(2);
    expect(e.message).toContain('bridgekeeper.database.url (env BRIDGEKEEPER_DATABASE_URL)');
    expect(e.message).toContain('bridgekeeper.redis.url (env BRIDGEKEEPER_REDIS_URL): must use');
    expect(e.message).not.toContain(secret);
  });

  it('while still keeping valid secret-bearing URLs in the config', () => {
    const c = loadConfig({
      env: {
        BRIDGEKEEPER_DATABASE_URL: `postgres://bk:${secret}@db/bk`,
        BRIDGEKEEPER_REDIS_URL: `rediss://:${secret}@redis:6380`,
      },
      cwd: dir(),
    });
    expect(c.database.url).toBe(`postgres://bk:${secret}@db/bk`);
    expect(c.redis.url).toBe(`rediss://:${secret}@redis:6380`);
  });
});
