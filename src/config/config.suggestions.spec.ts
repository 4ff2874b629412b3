import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, defaultPublicUrl, loadConfig } from 'src/config/config.loader';
import { GLOBAL_SETTINGS, globalSetting, ISSUER_SETTINGS } from 'src/config/config.definition';
import { distance, nearest, unknownSettingProblem } from 'src/config/config.suggestions';

const P = 'bridgekeeper.auth.jwt.trusted.issuer';
const idp = [
  'bridgekeeper.auth.jwt.trusted.issuers=idp',
  `${P}.idp.issuer=https://idp.example.com`,
  `${P}.idp.jwks=https://idp.example.com/jwks`,
  `${P}.idp.audiences=api`,
].join('\n');

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function dir(properties: string): string {
  const d = mkdtempSync(join(tmpdir(), 'bk-config-'));
  dirs.push(d);
  writeFileSync(join(d, 'bridgekeeper.properties'), properties);
  return d;
}
function problemsOf(properties: string, env: Record<string, string> = {}): string[] {
  try {
    loadConfig({ env, cwd: dir(properties) });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('unknown settings', () => {
  it('calls a per-issuer typo of a listed issuer an unknown setting and suggests the key', () => {
    expect(problemsOf(`${idp}\n${P}.idp.jwks_url=https://x`)).toEqual([
      `${P}.idp.jwks_url: unknown setting; did you mean \`${P}.idp.jwks\`?`,
    ]);
  });

  it('does the same for the environment variable', () => {
    expect(
      problemsOf(idp, { BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_IDP_JWKS_URL: 'https://x' }),
    ).toEqual([
      'env BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_IDP_JWKS_URL: unknown setting; did you mean `BRIDGEKEEPER_AUTH_JWT_TRUSTED_ISSUER_IDP_JWKS`?',
    ]);
  });

  it('suggests the listed issuer for a misspelt issuer name', () => {
    expect(problemsOf(`${idp}\n${P}.ipd.userinfo=https://x`)).toEqual([
      `${P}.ipd.userinfo: unknown setting; issuer "ipd" is not listed, did you mean \`${P}.idp.userinfo\`?`,
    ]);
  });

  it('suggests the right prefix for a per-issuer key written short', () => {
    expect(problemsOf(`${idp}\nbridgekeeper.issuer.idp.jwks_url=https://x`)).toEqual([
      `bridgekeeper.issuer.idp.jwks_url: unknown setting; did you mean \`${P}.idp.jwks\`?`,
    ]);
  });

  it.each([
    ['bridgekeeper.public_url', 'bridgekeeper.public.url'],
    ['bridgekeeper.http.prot', 'bridgekeeper.http.port'],
    ['bridgekeeper.databse.url', 'bridgekeeper.database.url'],
    ['bridgekeeper.redis.keyprefix', 'bridgekeeper.redis.key.prefix'],
  ])('suggests the nearest global key for %s', (typo, key) => {
    expect(unknownSettingProblem(typo, 'key', [])).toBe(
      `${typo}: unknown setting; did you mean \`${key}\`?`,
    );
  });

  it('suggests env names for env variables, and nothing when nothing is near', () => {
    expect(unknownSettingProblem('BRIDGEKEEPER_PUBLICURL', 'env', [])).toBe(
      'env BRIDGEKEEPER_PUBLICURL: unknown setting; did you mean `BRIDGEKEEPER_PUBLIC_URL`?',
    );
    expect(unknownSettingProblem('BRIDGEKEEPER_FOO', 'env', [])).toBe(
      'env BRIDGEKEEPER_FOO: unknown setting',
    );
  });

  it('never repeats a value', () => {
    const problems = problemsOf(`${idp}\n${P}.idp.jwks_url=https://secret.example/s3cr3t`);
    expect(problems.join('\n')).not.toContain('s3cr3t');
  });

  it('measures adjacent swaps as one edit', () => {
    expect(distance('prot', 'port')).toBe(1);
    expect(distance('', 'abc')).toBe(3);
    expect(nearest('zzzz', ['jwks', 'issuer'])).toBeUndefined();
  });
});

describe('default public URL', () => {
  it.each([
    ['127.0.0.1', 3000, 'http://127.0.0.1:3000'],
    ['localhost', 3000, 'http://localhost:3000'],
    ['0.0.0.0', 8080, 'http://127.0.0.1:8080'],
    ['::', 3000, 'http://127.0.0.1:3000'],
    ['::1', 3000, 'http://[::1]:3000'],
    ['auth.internal', 3000, 'http://auth.internal:3000'],
  ])('follows the listening host %s', (host, port, url) => {
    expect(defaultPublicUrl(host, port)).toBe(url);
  });

  it('warns when listening on every interface without a public URL', () => {
    const c = loadConfig({ env: { BRIDGEKEEPER_HTTP_HOST: '0.0.0.0' }, cwd: dir('') });
    expect(c.publicUrl).toBe('http://127.0.0.1:3000');
    expect(c.warnings).toEqual([expect.stringContaining('set bridgekeeper.public.url')]);
    const set = loadConfig({
      env: { BRIDGEKEEPER_HTTP_HOST: '0.0.0.0', BRIDGEKEEPER_PUBLIC_URL: 'https://bk.example' },
      cwd: dir(''),
    });
    expect(set.warnings).toEqual([]);
  });
});

describe('the configuration definition', () => {
  it('defines every key the loader reads, and the loader applies its defaults', () => {
    const c = loadConfig({ env: {}, cwd: dir('') });
    expect(c.http.port).toBe(Number(globalSetting('http.port').default));
    expect(c.log.format).toBe(globalSetting('log.format').default);
    expect(c.oauth.refreshTokenTtlSeconds).toBe(
      Number(globalSetting('oauth.refresh.token.ttl.seconds').default),
    );
    const issuerKeys = ISSUER_SETTINGS.map((s) => s.name).sort();
    expect(issuerKeys).toEqual([...new Set(issuerKeys)]);
    for (const s of GLOBAL_SETTINGS) {
      if (s.type === 'integer') expect(Number(s.default ?? s.min)).toBeGreaterThanOrEqual(s.min!);
      if (s.type === 'enum') expect(s.values).toContain(s.default);
    }
  });

  it('refuses a value outside the range the definition gives', () => {
    const p = globalSetting('database.pool.size');
    expect(() =>
      loadConfig({ env: { BRIDGEKEEPER_DATABASE_POOL_SIZE: String(p.max! + 1) }, cwd: dir('') }),
    ).toThrow(`must be between ${p.min} and ${p.max}`);
  });
});
