import { randomBytes } from 'node:crypto';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';
import { waitFor } from '../support/ports';
import { type RedisServer, startRedis } from '../support/redis';

// Issue 4 §4: trusted issuers managed at runtime through GraphQL. A change applies at once on the node
// that made it and within about a second on the others (Redis pub/sub, with a database poll as catch-up);
// the same rules as configuration apply, plus SSRF checks on the URLs (SECURITY.md rules 1, 2, 8, 16).
const CORP_AUD = 'bk-admin';

const CREATE = `mutation ($input: CreateTrustedIssuerInput!) {
  createTrustedIssuer(input: $input) { name issuer jwksUrl audiences algorithms source editable provisioning createdAt }
}`;
const UPDATE = `mutation ($name: String!, $input: UpdateTrustedIssuerInput!) {
  updateTrustedIssuer(name: $name, input: $input) { name audiences jwksUrl updatedAt }
}`;
const DELETE = `mutation ($name: String!) { deleteTrustedIssuer(name: $name) }`;
const LIST = `{ trustedIssuers { name issuer source editable createdAt } }`;

interface Idps {
  corp: JwksStub;
  partner: JwksStub;
  other: JwksStub;
}

async function startIdps(): Promise<Idps> {
  const [corp, partner, other] = await Promise.all([
    JwksStub.start(),
    JwksStub.start(),
    JwksStub.start(),
  ]);
  return { corp, partner, other };
}

/** Nodes of one cluster share the secrets key (it encrypts the signing keys they share). */
const SECRETS_KEY = randomBytes(32).toString('base64');

function startNode(idps: Idps, extra: { redisUrl?: string; databaseUrl?: string } = {}) {
  return startBridgekeeper({
    issuers: [
      { name: 'corp', issuer: idps.corp.issuer, jwks: idps.corp.jwksUrl, audiences: CORP_AUD },
    ],
    admins: ['corp:root'],
    properties: { 'bridgekeeper.secrets.key': SECRETS_KEY },
    ...extra,
  });
}

const status = async (bk: RunningBridgekeeper, token: string) =>
  (await bk.get('/oauth2/userinfo', token)).status;

/** Polls until the node answers `expected` for the token (a deadline, not a timing assertion). */
const eventually = (bk: RunningBridgekeeper, token: string, expected: number, what: string) =>
  waitFor(what, async () => (await status(bk, token)) === expected, 10_000, 50);

async function gqlError(
  bk: RunningBridgekeeper,
  query: string,
  token: string,
  variables: Record<string, unknown>,
) {
  const res = await bk.graphql(query, token, variables);
  expect(res.body.errors?.length).toBeGreaterThan(0);
  return { ...res.body.errors![0], data: res.body.data };
}

describe('trusted issuers at runtime, two nodes on Redis', () => {
  let idps: Idps;
  let redis: RedisServer;
  let a: RunningBridgekeeper;
  let b: RunningBridgekeeper;
  let admin: string;

  beforeAll(async () => {
    [idps, redis] = await Promise.all([startIdps(), startRedis()]);
    a = await startNode(idps, { redisUrl: redis.url });
    b = await startNode(idps, { redisUrl: redis.url, databaseUrl: a.databaseUrl });
    admin = await idps.corp.token(CORP_AUD, { sub: 'root' });
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await Promise.all([idps?.corp.stop(), idps?.partner.stop(), idps?.other.stop()]);
    await redis?.stop();
  });

  it('lists configuration issuers as read-only, and refuses to change or delete them', async () => {
    const res = await a.graphql(LIST, admin);
    expect(res.body.data?.trustedIssuers).toEqual([
      {
        name: 'corp',
        issuer: idps.corp.issuer,
        source: 'CONFIG',
        editable: false,
        createdAt: null,
      },
    ]);
    const upd = await gqlError(a, UPDATE, admin, { name: 'corp', input: { audiences: ['x'] } });
    expect(upd.extensions).toMatchObject({ code: 'FORBIDDEN', errorCode: 'ISSUER_READ_ONLY' });
    const del = await gqlError(a, DELETE, admin, { name: 'corp' });
    expect(del.extensions).toMatchObject({ code: 'FORBIDDEN', errorCode: 'ISSUER_READ_ONLY' });
    // Still trusted, unchanged.
    expect(await status(a, admin)).toBe(200);
  });

  it('is for admins only (deny by default, SECURITY rule 16)', async () => {
    const user = await idps.corp.token(CORP_AUD, { sub: 'someone' });
    for (const [query, variables] of [
      [LIST, {}],
      [
        CREATE,
        { input: { name: 'x', issuer: 'https://x', jwksUrl: 'https://x/j', audiences: ['a'] } },
      ],
      [UPDATE, { name: 'x', input: { audiences: ['b'] } }],
      [DELETE, { name: 'x' }],
    ] as const) {
      const e = await gqlError(a, query, user, variables);
      expect(e.extensions?.code).toBe('FORBIDDEN');
    }
    const anonymous = await a.graphql(LIST);
    expect(anonymous.status).toBe(401);
  });

  it('trusts a new issuer at once on this node and soon on the other, without a restart', async () => {
    const token = await idps.partner.token('partner-api', { sub: 'p1' });
    expect(await status(a, token)).toBe(401);
    expect(await status(b, token)).toBe(401);

    const res = await a.graphql(CREATE, admin, {
      input: {
        name: 'partner',
        issuer: idps.partner.issuer,
        jwksUrl: idps.partner.jwksUrl,
        audiences: ['partner-api'],
        algorithms: ['RS256', 'ES256'],
      },
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.createTrustedIssuer).toMatchObject({
      name: 'partner',
      issuer: idps.partner.issuer,
      audiences: ['partner-api'],
      algorithms: ['RS256', 'ES256'],
      source: 'DATABASE',
      editable: true,
      provisioning: 'JIT',
      createdAt: expect.any(String),
    });

    expect(await status(a, token)).toBe(200);
    await eventually(b, token, 200, 'node B to trust the new issuer');
    const me = (await (await b.get('/oauth2/userinfo', token)).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ issuer: 'partner', subject: 'p1' });

    const list = await b.graphql(LIST, admin);
    expect(list.body.data?.trustedIssuers).toEqual([
      expect.objectContaining({ name: 'corp', source: 'CONFIG' }),
      expect.objectContaining({ name: 'partner', source: 'DATABASE', editable: true }),
    ]);
  });

  it('applies an audience change to tokens already verified and cached', async () => {
    const oldAud = await idps.partner.token('partner-api', { sub: 'p2' });
    const newAud = await idps.partner.token('partner-v2', { sub: 'p2' });
    // Both nodes have now verified and cached the old-audience token.
    expect(await status(a, oldAud)).toBe(200);
    await eventually(b, oldAud, 200, 'node B to accept the old audience first');
    expect(await status(a, newAud)).toBe(401);

    const res = await a.graphql(UPDATE, admin, {
      name: 'partner',
      input: { audiences: ['partner-v2'] },
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.updateTrustedIssuer).toMatchObject({ audiences: ['partner-v2'] });

    expect(await status(a, oldAud)).toBe(401);
    expect(await status(a, newAud)).toBe(200);
    await eventually(b, oldAud, 401, 'node B to refuse the old audience');
    expect(await status(b, newAud)).toBe(200);
  });

  it('replaces the key set when the JWKS URL changes', async () => {
    const signedByOld = await idps.partner.token('partner-v2', { sub: 'p3' });
    const signedByNew = await idps.other.token('partner-v2', {
      sub: 'p3',
      iss: idps.partner.issuer,
    });
    expect(await status(a, signedByOld)).toBe(200);
    expect(await status(a, signedByNew)).toBe(401);

    const res = await a.graphql(UPDATE, admin, {
      name: 'partner',
      input: { jwksUrl: idps.other.jwksUrl },
    });
    expect(res.body.errors).toBeUndefined();
    expect(await status(a, signedByNew)).toBe(200);
    expect(await status(a, signedByOld)).toBe(401);
    await eventually(b, signedByOld, 401, 'node B to drop the old key set');
    expect(await status(b, signedByNew)).toBe(200);
    expect(idps.other.fetches).toBeGreaterThan(0);
  });

  it('refuses a taken name or exact iss (409), and the reserved name', async () => {
    const dupName = await gqlError(a, CREATE, admin, {
      input: {
        name: 'partner',
        issuer: 'https://elsewhere.example.com',
        jwksUrl: 'https://elsewhere.example.com/jwks',
        audiences: ['a'],
      },
    });
    expect(dupName.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'ISSUER_NAME_TAKEN' });
    for (const name of ['corp', 'partner']) {
      const e = await gqlError(a, CREATE, admin, {
        input: {
          name: name === 'corp' ? 'corp' : 'copy',
          issuer: name === 'corp' ? 'https://new.example.com' : idps.partner.issuer,
          jwksUrl: 'https://new.example.com/jwks',
          audiences: ['a'],
        },
      });
      expect(e.extensions?.code).toBe('CONFLICT');
    }
    const dupIssOfConfig = await gqlError(a, CREATE, admin, {
      input: {
        name: 'copy',
        issuer: idps.corp.issuer,
        jwksUrl: idps.corp.jwksUrl,
        audiences: ['a'],
      },
    });
    expect(dupIssOfConfig.extensions).toMatchObject({
      code: 'CONFLICT',
      errorCode: 'ISSUER_ISS_TAKEN',
    });
    const reserved = await gqlError(a, CREATE, admin, {
      input: {
        name: 'bridgekeeper',
        issuer: 'https://bk2.example.com',
        jwksUrl: 'https://bk2.example.com/jwks',
        audiences: ['a'],
      },
    });
    expect(reserved.extensions?.code).toBe('BAD_USER_INPUT');
    expect(reserved.message).toMatch(/^name: .*reserved/);
    const ownIss = await gqlError(a, CREATE, admin, {
      input: {
        name: 'own',
        issuer: a.config.publicUrl,
        jwksUrl: 'https://x/jwks',
        audiences: ['a'],
      },
    });
    expect(ownIss.extensions?.code).toBe('BAD_USER_INPUT');
    expect(ownIss.message).toMatch(/^issuer: /);
  });

  it.each([
    ['jwksUrl', 'http://169.254.169.254/latest/meta-data/'],
    ['jwksUrl', 'http://[fe80::1]/jwks'],
    ['jwksUrl', 'http://[::ffff:169.254.169.254]/jwks'],
    ['jwksUrl', 'http://2852039166/jwks'],
    ['jwksUrl', 'file:///etc/passwd'],
    ['jwksUrl', 'gopher://127.0.0.1:6379/_FLUSHALL'],
    ['jwksUrl', 'http://admin:s3cr3t-pw@127.0.0.1:9/jwks'],
    ['userinfoUrl', 'http://metadata.google.internal/computeMetadata/v1/'],
    ['userinfoUrl', 'http://[fd00:ec2::254]/latest'],
    ['userinfoUrl', 'https://user:s3cr3t-pw@idp.example.com/userinfo'],
  ])('refuses %s %s (SSRF, rule 8) naming the field, never echoing it', async (field, url) => {
    const e = await gqlError(a, CREATE, admin, {
      input: {
        name: 'ssrf',
        issuer: 'https://ssrf.example.com',
        ...(field === 'jwksUrl' ? { jwksUrl: url, audiences: ['a'] } : { userinfoUrl: url }),
      },
    });
    expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 'ISSUER_INVALID' });
    expect(e.message).toMatch(new RegExp(`^${field}: `));
    expect(e.message).not.toContain('s3cr3t');
    expect(e.message).not.toContain(url);
    expect(a.logs.join('\n')).not.toContain('s3cr3t');
  });

  it.each([[['HS256']], [['none']], [['RS256', 'HS512']], [[]]])(
    'refuses algorithms %j (asymmetric only, rule 2)',
    async (algorithms) => {
      const e = await gqlError(a, CREATE, admin, {
        input: {
          name: 'symmetric',
          issuer: 'https://sym.example.com',
          jwksUrl: 'https://sym.example.com/jwks',
          audiences: ['a'],
          algorithms,
        },
      });
      expect(e.extensions?.code).toBe('BAD_USER_INPUT');
      expect(e.message).toMatch(/^algorithms: /);
    },
  );

  it('applies the configuration rules: audiences required with a JWKS, an endpoint needed', async () => {
    const noAud = await gqlError(a, CREATE, admin, {
      input: { name: 'noaud', issuer: 'https://n.example.com', jwksUrl: 'https://n.example.com/j' },
    });
    expect(noAud.extensions?.code).toBe('BAD_USER_INPUT');
    expect(noAud.message).toMatch(/^audiences: .*audiencesRequired=false/);
    const noEndpoint = await gqlError(a, CREATE, admin, {
      input: { name: 'noend', issuer: 'https://n.example.com' },
    });
    expect(noEndpoint.message).toMatch(/^jwksUrl: .*needs a JWKS URL/);
    const badName = await gqlError(a, CREATE, admin, {
      input: { name: 'Bad-Name', issuer: 'https://n.example.com', userinfoUrl: 'https://n/ui' },
    });
    expect(badName.message).toMatch(/^name: /);
    // Nothing was created by any refused request.
    const list = await a.graphql(LIST, admin);
    expect(
      (list.body.data?.trustedIssuers as { name: string }[]).map((i) => i.name).sort(),
    ).toEqual(['corp', 'partner']);
    const clear = await gqlError(a, UPDATE, admin, { name: 'partner', input: { issuer: null } });
    expect(clear.message).toMatch(/^issuer: cannot be null/);
  });

  it('answers NOT_FOUND for an unknown issuer', async () => {
    const upd = await gqlError(a, UPDATE, admin, { name: 'ghost', input: { audiences: ['x'] } });
    expect(upd.extensions?.code).toBe('NOT_FOUND');
    const del = await gqlError(a, DELETE, admin, { name: 'ghost' });
    expect(del.extensions?.code).toBe('NOT_FOUND');
  });

  it('stops trusting a deleted issuer at once here and soon on the other node', async () => {
    const token = await idps.other.token('partner-v2', { sub: 'p4', iss: idps.partner.issuer });
    expect(await status(a, token)).toBe(200);
    await eventually(b, token, 200, 'node B to accept the token first');

    const res = await a.graphql(DELETE, admin, { name: 'partner' });
    expect(res.body).toEqual({ data: { deleteTrustedIssuer: true } });
    expect(await status(a, token)).toBe(401);
    await eventually(b, token, 401, 'node B to refuse the deleted issuer');
    const list = await b.graphql(LIST, admin);
    expect(list.body.data?.trustedIssuers).toEqual([expect.objectContaining({ name: 'corp' })]);
  });

  it('reaches a node that missed the message through the database poll (Redis down)', async () => {
    const token = await idps.partner.token('late-api', { sub: 'l1' });
    await redis.stop();
    const res = await a.graphql(CREATE, admin, {
      input: {
        name: 'late',
        issuer: idps.partner.issuer,
        jwksUrl: idps.partner.jwksUrl,
        audiences: ['late-api'],
      },
    });
    expect(res.body.errors).toBeUndefined();
    expect(await status(a, token)).toBe(200);
    await eventually(b, token, 200, 'node B to catch up from the database');
  });
});

describe('trusted issuers at runtime, one node without Redis', () => {
  let idps: Idps;
  let bk: RunningBridgekeeper;
  let admin: string;

  beforeAll(async () => {
    idps = await startIdps();
    bk = await startNode(idps);
    admin = await idps.corp.token(CORP_AUD, { sub: 'root' });
  });

  afterAll(async () => {
    await bk?.close();
    await Promise.all([idps?.corp.stop(), idps?.partner.stop(), idps?.other.stop()]);
  });

  it('applies create, update and delete at once', async () => {
    const v1 = await idps.partner.token('aud1', { sub: 'm1' });
    const v2 = await idps.partner.token('aud2', { sub: 'm1' });
    expect(await status(bk, v1)).toBe(401);
    const created = await bk.graphql(CREATE, admin, {
      input: {
        name: 'solo',
        issuer: idps.partner.issuer,
        jwksUrl: idps.partner.jwksUrl,
        audiences: ['aud1'],
      },
    });
    expect(created.body.errors).toBeUndefined();
    expect(await status(bk, v1)).toBe(200);
    expect(await status(bk, v2)).toBe(401);

    const updated = await bk.graphql(UPDATE, admin, {
      name: 'solo',
      input: { audiences: ['aud2'] },
    });
    expect(updated.body.errors).toBeUndefined();
    expect(await status(bk, v1)).toBe(401);
    expect(await status(bk, v2)).toBe(200);

    const deleted = await bk.graphql(DELETE, admin, { name: 'solo' });
    expect(deleted.body.data).toEqual({ deleteTrustedIssuer: true });
    expect(await status(bk, v2)).toBe(401);
  });
});
