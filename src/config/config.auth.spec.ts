import { ConfigError, loadConfig } from 'src/config/config.loader';

// Sign-in settings (issue 9): defaults, the bootstrap secret's rules (never echoed), lifetimes.
function load(overrides: Record<string, string>) {
  return loadConfig({ env: {}, cwd: __dirname, overrides });
}

function problems(overrides: Record<string, string>): string[] {
  try {
    load(overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('sign-in configuration', () => {
  it('has the documented defaults', () => {
    expect(load({}).auth).toEqual({
      passwordMinLength: 12,
      sessionIdleSeconds: 8 * 3600,
      sessionAbsoluteSeconds: 7 * 86400,
      loginMaxFailuresPerAccount: 5,
      loginMaxFailuresPerAddress: 20,
      loginLockoutSeconds: 300,
      linkTtlSeconds: 72 * 3600,
      localLoginEnabled: true,
    });
  });

  it('accepts a long URL-safe bootstrap secret', () => {
    const secret = 'a'.repeat(20) + '0123456789abcdef_-.~';
    expect(load({ 'bridgekeeper.auth.bootstrap.secret': secret }).auth.bootstrapSecret).toBe(
      secret,
    );
  });

  it.each([
    ['short-secret', /at least 32 characters/],
    ['has/slash+plus=0123456789012345678901234567890', /URL-safe/],
  ])('refuses the bootstrap secret %#, without echoing it', (secret, message) => {
    const p = problems({ 'bridgekeeper.auth.bootstrap.secret': secret });
    expect(p.join('\n')).toMatch(message);
    expect(p.join('\n')).not.toContain(secret);
  });

  it('refuses a placeholder bootstrap secret in production', () => {
    const p = problems({
      'bridgekeeper.mode': 'production',
      'bridgekeeper.secrets.key': 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5',
      'bridgekeeper.auth.bootstrap.secret': 'change-me-change-me-change-me-change-me',
    });
    expect(p.join('\n')).toMatch(/bootstrap\.secret.*: looks like a placeholder/);
  });

  it('refuses an idle lifetime longer than the absolute one', () => {
    const p = problems({
      'bridgekeeper.auth.session.idle.seconds': '7200',
      'bridgekeeper.auth.session.absolute.seconds': '3600',
    });
    expect(p.join('\n')).toMatch(/idle\.seconds.*: must not exceed/);
  });

  it('reads trusted proxies (addresses and CIDR ranges) and refuses anything else', () => {
    expect(load({}).http.trustedProxies).toEqual([]);
    expect(
      load({ 'bridgekeeper.http.trusted.proxies': '10.0.0.0/8, 127.0.0.1,::1' }).http
        .trustedProxies,
    ).toEqual(['10.0.0.0/8', '127.0.0.1', '::1']);
    expect(problems({ 'bridgekeeper.http.trusted.proxies': 'proxy.example' }).join('\n')).toMatch(
      /trusted\.proxies.*: each entry must be an IP address or CIDR range/,
    );
  });
});
