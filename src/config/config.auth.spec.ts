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

// Issue 9 §4: the SSO provider from configuration (Medatarun's keys) and its rules.
const ISSUER = 'https://login.example.com/realms/corp';
const TRUSTED = {
  'bridgekeeper.auth.jwt.trusted.issuers': 'corp',
  'bridgekeeper.auth.jwt.trusted.issuer.corp.issuer': ISSUER,
  'bridgekeeper.auth.jwt.trusted.issuer.corp.jwks': `${ISSUER}/certs`,
  'bridgekeeper.auth.jwt.trusted.issuer.corp.audiences': 'api',
};

describe('SSO provider configuration', () => {
  it('has none without an authority, and local login on', () => {
    const auth = load({}).auth;
    expect(auth.sso).toBeUndefined();
    expect(auth.localLoginEnabled).toBe(true);
  });

  it('reads the provider with its defaults (a public client without a secret)', () => {
    const auth = load({
      ...TRUSTED,
      'bridgekeeper.auth.ui.oidc.authority': ISSUER,
      'bridgekeeper.auth.ui.oidc.clientid': 'bridgekeeper',
      'bridgekeeper.auth.ui.local.enabled': 'false',
    }).auth;
    expect(auth.localLoginEnabled).toBe(false);
    expect(auth.sso).toEqual({
      name: 'oidc',
      displayName: 'oidc',
      authority: ISSUER,
      clientId: 'bridgekeeper',
      scopes: ['openid', 'profile', 'email'],
      claims: { email: 'email', firstName: 'given_name', lastName: 'family_name', custom: [] },
      forwardParams: ['login_hint'],
      enabled: true,
    });
  });

  it('reads every key (Keycloak-like example)', () => {
    const sso = load({
      ...TRUSTED,
      'bridgekeeper.auth.ui.oidc.authority': ISSUER,
      'bridgekeeper.auth.ui.oidc.clientid': 'bridgekeeper',
      'bridgekeeper.auth.ui.oidc.clientsecret': 'a-client-secret',
      'bridgekeeper.auth.ui.oidc.name': 'keycloak',
      'bridgekeeper.auth.ui.oidc.display.name': 'Corporate login',
      'bridgekeeper.auth.ui.oidc.scopes': 'openid,profile email groups',
      'bridgekeeper.auth.ui.oidc.claims.email': 'mail',
      'bridgekeeper.auth.ui.oidc.claims.firstname': 'first',
      'bridgekeeper.auth.ui.oidc.claims.lastname': 'last',
      'bridgekeeper.auth.ui.oidc.claims.custom': 'groups=groups, tags=tago.tags',
      'bridgekeeper.auth.ui.oidc.forward.params': 'login_hint,invite',
    }).auth.sso;
    expect(sso).toMatchObject({
      name: 'keycloak',
      displayName: 'Corporate login',
      clientSecret: 'a-client-secret',
      scopes: ['openid', 'profile', 'email', 'groups'],
      claims: {
        email: 'mail',
        firstName: 'first',
        lastName: 'last',
        custom: [
          { claim: 'groups', attribute: 'groups' },
          { claim: 'tags', attribute: 'tago.tags' },
        ],
      },
      forwardParams: ['login_hint', 'invite'],
    });
  });

  it('warns when local login is off and no provider is configured', () => {
    expect(load({ 'bridgekeeper.auth.ui.local.enabled': 'false' }).warnings).toEqual([
      expect.stringContaining('bridgekeeper.auth.ui.local.enabled is false and no SSO provider'),
    ]);
  });

  it('refuses an authority that is not a trusted issuer, naming the key', () => {
    const found = problems({
      ...TRUSTED,
      'bridgekeeper.auth.ui.oidc.authority': `${ISSUER}/`,
      'bridgekeeper.auth.ui.oidc.clientid': 'bridgekeeper',
    });
    expect(found).toEqual([
      expect.stringMatching(
        /^bridgekeeper\.auth\.ui\.oidc\.authority \(env BRIDGEKEEPER_AUTH_UI_OIDC_AUTHORITY\): must be the exact iss of one of the trusted issuers/,
      ),
    ]);
  });

  it('requires a client id, openid, claim=attribute pairs, and no protocol parameter forwarded; never echoes the secret', () => {
    const found = problems({
      ...TRUSTED,
      'bridgekeeper.auth.ui.oidc.authority': ISSUER,
      'bridgekeeper.auth.ui.oidc.clientsecret': 'super-secret-value',
      'bridgekeeper.auth.ui.oidc.scopes': 'profile email',
      'bridgekeeper.auth.ui.oidc.claims.custom': 'tags',
      'bridgekeeper.auth.ui.oidc.forward.params': 'login_hint,redirect_uri',
      'bridgekeeper.auth.ui.oidc.name': 'Not Valid',
    });
    const text = found.join('\n');
    expect(text).toContain(
      'bridgekeeper.auth.ui.oidc.clientid (env BRIDGEKEEPER_AUTH_UI_OIDC_CLIENTID): is required',
    );
    expect(text).toContain('bridgekeeper.auth.ui.oidc.scopes');
    expect(text).toContain('bridgekeeper.auth.ui.oidc.claims.custom');
    expect(text).toContain('redirect_uri cannot be forwarded');
    expect(text).toContain('bridgekeeper.auth.ui.oidc.name');
    expect(text).not.toContain('super-secret-value');
  });
});
