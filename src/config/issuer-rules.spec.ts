import {
  checkIssuer,
  type IssuerDraft,
  issuerConflicts,
  issuerNameProblem,
  type IssuerRuleOptions,
} from 'src/config/issuer-rules';

// The one set of trusted-issuer rules, shared by the configuration loader and the admin API.
const dev: IssuerRuleOptions = { mode: 'development', fieldName: (f) => f };
const prod: IssuerRuleOptions = { ...dev, mode: 'production', ownIssuer: 'https://bk.example.com' };
const base: IssuerDraft = {
  name: 'corp',
  issuer: 'https://login.example.com/realms/corp',
  jwksUrl: 'https://login.example.com/certs',
  audiences: ['api'],
};

const fields = (draft: IssuerDraft, options = dev) =>
  checkIssuer(draft, options).problems.map((p) => p.field);

describe('checkIssuer', () => {
  it('fills the defaults: RS256, 60 s tolerance, jit, audiences required with a JWKS', () => {
    expect(checkIssuer(base, dev)).toEqual({
      problems: [],
      issuer: {
        name: 'corp',
        issuer: 'https://login.example.com/realms/corp',
        jwksUrl: 'https://login.example.com/certs',
        opaque: false,
        audiences: ['api'],
        audiencesRequired: true,
        algorithms: ['RS256'],
        clockToleranceSeconds: 60,
        provisioning: 'jit',
        userinfoCredentials: false,
        emailMatching: false,
      },
    });
  });

  it.each(['Corp', 'corp-eu', 'corp_eu', 'corp.eu', 'cörp', '', 'bridgekeeper'])(
    'refuses the name %j',
    (name) => {
      expect(fields({ ...base, name })).toEqual(['name']);
      expect(issuerNameProblem(name)).toBeDefined();
    },
  );

  it('requires an exact iss without surrounding white space, never our own', () => {
    expect(fields({ ...base, issuer: undefined })).toEqual(['issuer']);
    expect(fields({ ...base, issuer: ' https://x ' })).toEqual(['issuer']);
    expect(fields({ ...base, issuer: 'https://bk.example.com' }, prod)).toEqual(['issuer']);
    expect(fields({ ...base, issuer: 'https://bk.example.com/' }, prod)).toEqual([]);
  });

  it('needs a JWKS or a userinfo URL, naming the other field in the message', () => {
    const { problems } = checkIssuer({ ...base, jwksUrl: undefined, audiences: [] }, dev);
    expect(problems).toEqual([
      { field: 'jwksUrl', message: expect.stringContaining('a userinfo URL (userinfoUrl)') },
    ]);
  });

  it.each(['ftp://x/certs', 'file:///etc/passwd', '/certs', 'not a url'])(
    'refuses the JWKS URL %s without repeating it',
    (jwksUrl) => {
      const { problems } = checkIssuer({ ...base, jwksUrl }, dev);
      expect(problems.map((p) => p.field)).toEqual(['jwksUrl']);
      expect(problems[0].message).not.toContain(jwksUrl);
    },
  );

  it('requires https in production except on loopback', () => {
    expect(fields({ ...base, jwksUrl: 'http://login.example.com/certs' }, prod)).toEqual([
      'jwksUrl',
    ]);
    expect(fields({ ...base, userinfoUrl: 'http://login.example.com/ui' }, prod)).toEqual([
      'userinfoUrl',
    ]);
    for (const host of ['127.0.0.1:8080', 'localhost', '[::1]:99']) {
      expect(fields({ ...base, jwksUrl: `http://${host}/certs` }, prod)).toEqual([]);
    }
    expect(fields({ ...base, jwksUrl: 'http://login.example.com/certs' }, dev)).toEqual([]);
  });

  it('requires audiences with a JWKS unless explicitly opted out; none needed for userinfo only', () => {
    expect(fields({ ...base, audiences: [] })).toEqual(['audiences']);
    expect(fields({ ...base, audiences: [' ', ''] })).toEqual(['audiences']);
    expect(
      checkIssuer({ ...base, audiences: [], audiencesRequired: false }, dev).issuer,
    ).toMatchObject({ audiences: [], audiencesRequired: false });
    const ui = { name: 'med', issuer: 'https://m', userinfoUrl: 'https://m/ui' };
    expect(checkIssuer(ui, dev).issuer).toMatchObject({ audiencesRequired: false });
    const { problems } = checkIssuer({ ...base, audiences: [] }, dev);
    expect(problems[0].message).toContain('audiencesRequired=false');
  });

  it.each([['HS256'], ['HS512'], ['none'], ['rs256'], ['RS256', 'HS384']])(
    'refuses algorithms %j (asymmetric only)',
    (...algorithms) => {
      const { problems } = checkIssuer({ ...base, algorithms }, dev);
      expect(problems.map((p) => p.field)).toEqual(['algorithms']);
      expect(problems[0].message).toMatch(/asymmetric algorithms only/);
    },
  );

  it('refuses an empty algorithm list, accepts every asymmetric algorithm', () => {
    expect(fields({ ...base, algorithms: [] })).toEqual(['algorithms']);
    expect(fields({ ...base, algorithms: ['ES256', 'PS384', 'EdDSA'] })).toEqual([]);
  });

  it.each([
    ['clockToleranceSeconds', -1],
    ['clockToleranceSeconds', 601],
    ['clockToleranceSeconds', 1.5],
    ['maxTokenAgeSeconds', 0],
    ['maxTokenAgeSeconds', 31536001],
  ])('refuses %s=%d', (field, value) => {
    expect(fields({ ...base, [field]: value })).toEqual([field]);
  });

  it('refuses unknown provisioning, and opaque without a userinfo URL', () => {
    expect(fields({ ...base, provisioning: 'auto' })).toEqual(['provisioning']);
    expect(fields({ ...base, opaque: true })).toEqual(['opaque']);
    expect(fields({ ...base, opaque: true, userinfoUrl: 'https://login.example.com/ui' })).toEqual(
      [],
    );
  });

  it('drops trailing slashes of the FHIR base and refuses a bad one', () => {
    expect(checkIssuer({ ...base, fhirBase: 'https://fhir/R4//' }, dev).issuer?.fhirBase).toBe(
      'https://fhir/R4',
    );
    expect(fields({ ...base, fhirBase: 'fhir' })).toEqual(['fhirBase']);
  });

  it('reports every problem at once', () => {
    expect(
      fields({ name: 'X', issuer: '', jwksUrl: 'ftp://x', algorithms: ['none'], audiences: [] }),
    ).toEqual(['name', 'issuer', 'jwksUrl', 'audiences', 'algorithms']);
  });
});

describe('issuerConflicts', () => {
  const a = { name: 'a', issuer: 'https://a', opaque: true };
  it('finds a taken name, a taken exact iss, and a second opaque issuer', () => {
    expect(issuerConflicts({ name: 'a', issuer: 'https://b', opaque: false }, [a])).toEqual([
      { kind: 'name', other: 'a' },
    ]);
    expect(issuerConflicts({ name: 'b', issuer: 'https://a', opaque: false }, [a])).toEqual([
      { kind: 'iss', other: 'a' },
    ]);
    expect(issuerConflicts({ name: 'b', issuer: 'https://b', opaque: true }, [a])).toEqual([
      { kind: 'opaque', other: 'a' },
    ]);
  });

  it('compares iss exactly: no trailing-slash or case folding', () => {
    expect(issuerConflicts({ name: 'b', issuer: 'https://a/', opaque: false }, [a])).toEqual([]);
    expect(issuerConflicts({ name: 'b', issuer: 'HTTPS://A', opaque: false }, [a])).toEqual([]);
  });
});
