import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';
import { OidcIdp } from '../support/oidc-provider';
import { query } from '../support/postgres';
import { UserinfoStub } from '../support/userinfo-stub';

// Issue 4 §4: explainToken (ADMIN) reports each validation step, read-only and without echoing secrets.
const STUB_AUDIENCE = 'bridgekeeper-stub';
const UI_ISS = 'https://userinfo-only.example.com';
const STEP_NAMES = [
  'format',
  'issuer',
  'key',
  'signature',
  'claims',
  'revocation',
  'actor',
  'membership',
];

interface Step {
  name: string;
  outcome: 'PASS' | 'FAIL' | 'SKIPPED';
  detail: string | null;
}
interface Explanation {
  valid: boolean;
  issuer: string | null;
  subject: string | null;
  expiresAt: string | null;
  steps: Step[];
}

const EXPLAIN = `query($token: String!) {
  explainToken(token: $token) { valid issuer subject expiresAt steps { name outcome detail } }
}`;

describe('explainToken', () => {
  let idp: OidcIdp;
  let stub: JwksStub;
  let other: JwksStub;
  let ui: UserinfoStub;
  let bk: RunningBridgekeeper;
  let admin: string;
  const asked: string[] = [];
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    [idp, stub, other, ui] = await Promise.all([
      OidcIdp.start(),
      JwksStub.start(),
      JwksStub.start(),
      UserinfoStub.start(),
    ]);
    bk = await startBridgekeeper({
      issuers: [
        { name: 'idp', issuer: idp.issuer, jwks: idp.jwksUrl, audiences: idp.audience },
        {
          name: 'stub',
          issuer: stub.issuer,
          jwks: stub.jwksUrl,
          audiences: STUB_AUDIENCE,
          maxTokenAge: 3600,
        },
        { name: 'ui', issuer: UI_ISS, userinfo: ui.url },
      ],
      admins: ['stub:explainer'],
    });
    admin = await stub.token(STUB_AUDIENCE, { sub: 'explainer' }, { expiresIn: 3000 });
    // The admin's own actor is created by its first request, not by what it explains.
    expect((await bk.graphql('{ me { id } }', admin)).body.errors).toBeUndefined();
  });

  afterAll(async () => {
    await bk?.close();
    await Promise.all([idp?.stop(), stub?.stop(), other?.stop(), ui?.stop()]);
  });

  async function explain(token: string, as = admin): Promise<Explanation> {
    asked.push(token);
    const res = await bk.graphql(EXPLAIN, as, { token });
    expect(res.body.errors).toBeUndefined();
    const text = JSON.stringify(res.body);
    // Never the token, nor its signature (or any other long segment) back.
    expect(text).not.toContain(token);
    for (const part of token.split('.')) if (part.length > 16) expect(text).not.toContain(part);
    const e = res.body.data!.explainToken as Explanation;
    expect(e.steps.map((s) => s.name)).toEqual(STEP_NAMES);
    return e;
  }

  const step = (e: Explanation, name: string) => e.steps.find((s) => s.name === name)!;
  const outcomes = (e: Explanation) => e.steps.map((s) => s.outcome);
  const actorCount = async () =>
    Number((await query<{ n: string }>(bk.databaseUrl, 'SELECT count(*) AS n FROM actors'))[0].n);

  it('explains a valid IdP token: all PASS, the actor "would be created", then "found"', async () => {
    const token = await idp.login('explained-alice', { email: 'a@example.com' });
    const before = await actorCount();
    const e = await explain(token);
    expect(e).toMatchObject({ valid: true, issuer: 'idp', subject: 'explained-alice' });
    expect(new Date(e.expiresAt!).getTime()).toBeGreaterThan(Date.now());
    expect(outcomes(e)).toEqual([
      'PASS',
      'PASS',
      'PASS',
      'PASS',
      'PASS',
      'SKIPPED',
      'PASS',
      'PASS',
    ]);
    expect(step(e, 'issuer').detail).toBe('idp');
    expect(step(e, 'key').detail).toMatch(/^kid .+ found in idp's key set$/);
    expect(step(e, 'claims').detail).toContain(`aud: PASS — accepted (${idp.audience})`);
    expect(step(e, 'claims').detail).toContain('exp: PASS');
    expect(step(e, 'actor').detail).toMatch(/would be created on first use/);
    expect(step(e, 'membership').detail).toMatch(/^none/);
    // Read-only: explain created no actor (and explaining twice changes nothing).
    await explain(token);
    expect(await actorCount()).toBe(before);
    const rows = await query(
      bk.databaseUrl,
      "SELECT id FROM actors WHERE issuer_name = 'idp' AND subject = 'explained-alice'",
    );
    expect(rows).toHaveLength(0);

    // First real use creates it; explain then finds it.
    expect((await bk.get('/oauth2/userinfo', token)).status).toBe(200);
    const after = await explain(token);
    expect(step(after, 'actor')).toMatchObject({ outcome: 'PASS' });
    expect(step(after, 'actor').detail).toMatch(/^found: actor [0-9a-f-]{36}$/);
  });

  it('expired → claims FAIL with the exp detail, later steps SKIPPED', async () => {
    const e = await explain(
      await stub.token(STUB_AUDIENCE, { sub: 'late', exp: now() - 600, iat: now() - 900 }),
    );
    expect(e.valid).toBe(false);
    expect(e.subject).toBe('late');
    expect(step(e, 'signature').outcome).toBe('PASS');
    expect(step(e, 'claims')).toMatchObject({ outcome: 'FAIL' });
    expect(step(e, 'claims').detail).toMatch(/exp: FAIL — expired at \d{4}-/);
    expect(outcomes(e).slice(5)).toEqual(['SKIPPED', 'SKIPPED', 'SKIPPED']);
  });

  it('wrong audience → the aud detail names it', async () => {
    const e = await explain(await stub.token('someone-else'));
    expect(step(e, 'claims').outcome).toBe('FAIL');
    expect(step(e, 'claims').detail).toContain(
      'aud: FAIL — none of (someone-else) is a configured audience',
    );
  });

  it('too old for the max token age → the max age detail', async () => {
    const e = await explain(await stub.token(STUB_AUDIENCE, { iat: now() - 7200 }));
    expect(step(e, 'claims').outcome).toBe('FAIL');
    expect(step(e, 'claims').detail).toMatch(/max age: FAIL — \d+ s exceeds the 3600 s limit/);
  });

  it('unknown issuer → issuer FAIL and nothing is fetched', async () => {
    const fetches = [stub.fetches, other.fetches];
    const e = await explain(await other.token(STUB_AUDIENCE));
    expect(step(e, 'issuer')).toEqual({
      name: 'issuer',
      outcome: 'FAIL',
      detail: 'unknown issuer',
    });
    expect(e.issuer).toBeNull();
    expect(e.subject).toBeNull();
    expect(
      outcomes(e)
        .slice(2)
        .every((o) => o === 'SKIPPED'),
    ).toBe(true);
    expect([stub.fetches, other.fetches]).toEqual(fetches);
  });

  it("unknown kid → key FAIL naming the kid, not in the issuer's key set", async () => {
    const e = await explain(
      await stub.token(STUB_AUDIENCE, {}, { header: { kid: 'no-such-kid' } }),
    );
    expect(step(e, 'key')).toEqual({
      name: 'key',
      outcome: 'FAIL',
      detail: "kid no-such-kid not in stub's key set",
    });
    expect(step(e, 'signature').outcome).toBe('SKIPPED');
  });

  it('bad signature → signature FAIL; a key of another issuer is never looked up', async () => {
    // Signed with another stub's key but carrying the trusted stub's kid and iss.
    const forged = await other.token(
      STUB_AUDIENCE,
      { iss: stub.issuer, sub: 'explainer' },
      { header: { kid: stub.primary.kid } },
    );
    const e = await explain(forged);
    expect(step(e, 'key').outcome).toBe('PASS');
    expect(step(e, 'signature')).toEqual({
      name: 'signature',
      outcome: 'FAIL',
      detail: 'signature does not verify with the key',
    });
    expect(e.subject).toBeNull();
    expect(e.valid).toBe(false);
  });

  it.each([
    ['garbage', 'not a token at all', 'not a compact JWS (three base64url segments)'],
    [
      'alg none',
      `${b64({ alg: 'none' })}.${b64({ sub: 'x' })}.sig`,
      'header alg is missing or "none"',
    ],
    [
      'a JWE-like header',
      `${b64({ alg: 'RS256', enc: 'A256GCM' })}.${b64({})}.xx`,
      'encrypted tokens (JWE) are not accepted',
    ],
    ['crit', `${b64({ alg: 'RS256', crit: ['x'] })}.${b64({})}.xx`, 'header has crit'],
    ['too large', `${'a'.repeat(9000)}.${'b'.repeat(10)}.${'c'.repeat(10)}`, 'longer than 8192'],
  ])('%s → format FAIL', async (_name, token, detail) => {
    const e = await explain(token);
    expect(step(e, 'format').outcome).toBe('FAIL');
    expect(step(e, 'format').detail).toContain(detail);
    expect(
      outcomes(e)
        .slice(1)
        .every((o) => o === 'SKIPPED'),
    ).toBe(true);
    expect(e.valid).toBe(false);
  });

  it('a disabled actor → actor FAIL', async () => {
    const token = await stub.token(STUB_AUDIENCE, { sub: 'to-disable' });
    const me = await bk.get('/oauth2/userinfo', token);
    const id = ((await me.json()) as { sub: string }).sub;
    const disabled = await bk.graphql(`mutation { disableActor(id: "${id}") { status } }`, admin);
    expect(disabled.body.errors).toBeUndefined();
    const e = await explain(token);
    expect(step(e, 'actor')).toEqual({
      name: 'actor',
      outcome: 'FAIL',
      detail: `actor ${id} is disabled`,
    });
    expect(step(e, 'membership').outcome).toBe('SKIPPED');
    expect(e.valid).toBe(false);
  });

  it('a userinfo-validated issuer: SKIPPED, and the token is never sent to the IdP', async () => {
    const token = await stub.token('x', { iss: UI_ISS, sub: 'ui-user' });
    ui.answers.set(token, { status: 200, body: { sub: 'ui-user' } });
    const e = await explain(token);
    expect(step(e, 'issuer').detail).toBe('ui');
    expect(step(e, 'key').outcome).toBe('SKIPPED');
    expect(step(e, 'key').detail).toMatch(/userinfo endpoint, which explain does not call/);
    expect(e.valid).toBe(false);
    expect(ui.calls(token)).toBe(0);

    // Once a real request validated it, the cached verdict is reported (still without a call).
    expect((await bk.get('/oauth2/userinfo', token)).status).toBe(200);
    expect(ui.calls(token)).toBe(1);
    const cached = await explain(token);
    expect(step(cached, 'key').detail).toMatch(/cached verdict/);
    expect(cached).toMatchObject({ valid: true, issuer: 'ui', subject: 'ui-user' });
    expect(ui.calls(token)).toBe(1);
  });

  it('explains our own access token, including revocation', async () => {
    const created = await bk.graphql(
      `mutation($input: CreateClientInput!) { createClient(input: $input) { client { clientId } clientSecret } }`,
      admin,
      { input: { name: 'explain-client', grantTypes: ['CLIENT_CREDENTIALS'], scopes: ['api'] } },
    );
    expect(created.body.errors).toBeUndefined();
    const { client, clientSecret } = created.body.data!.createClient as {
      client: { clientId: string };
      clientSecret: string;
    };
    const form = (extra: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: client.clientId,
        client_secret: clientSecret,
        ...extra,
      }),
    });
    const res = await fetch(
      `${bk.url}/oauth2/token`,
      form({ grant_type: 'client_credentials', scope: 'api' }),
    );
    expect(res.status).toBe(200);
    const own = ((await res.json()) as { access_token: string }).access_token;
    const e = await explain(own);
    expect(e).toMatchObject({ valid: true, issuer: 'bridgekeeper', subject: client.clientId });
    expect(step(e, 'issuer').detail).toBe('bridgekeeper (our own token)');
    expect(step(e, 'key').detail).toMatch(/is one of our signing keys$/);
    expect(step(e, 'claims').detail).toContain('typ: PASS — at+jwt');
    expect(step(e, 'revocation')).toMatchObject({ outcome: 'PASS', detail: 'not revoked' });
    expect(step(e, 'actor').detail).toMatch(/^found: actor /);
    expect(JSON.stringify(e)).not.toContain(clientSecret);

    expect((await fetch(`${bk.url}/oauth2/revoke`, form({ token: own }))).status).toBe(200);
    let revoked = await explain(own);
    for (let i = 0; i < 20 && step(revoked, 'revocation').outcome !== 'FAIL'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      revoked = await explain(own);
    }
    expect(step(revoked, 'revocation')).toEqual({
      name: 'revocation',
      outcome: 'FAIL',
      detail: 'revoked',
    });
    expect(revoked.valid).toBe(false);
    expect(outcomes(revoked).slice(6)).toEqual(['SKIPPED', 'SKIPPED']);
  });

  it('previews the membership without linking it, and reports ambiguity', async () => {
    const project = async (name: string) => {
      const res = await bk.graphql(
        'mutation($n: String!) { createProject(name: $n) { id } }',
        admin,
        { n: name },
      );
      expect(res.body.errors).toBeUndefined();
      return (res.body.data!.createProject as { id: string }).id;
    };
    const invite = async (projectId: string) => {
      const res = await bk.post(
        `/admin/projects/${projectId}/invite`,
        {
          resourceType: 'Practitioner',
          firstName: 'Mem',
          lastName: 'Ber',
          externalId: 'member-sub',
          issuer: 'stub',
        },
        admin,
      );
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const p1 = await project('Explain A');
    const m1 = await invite(p1);
    const token = await stub.token(STUB_AUDIENCE, { sub: 'member-sub' });
    const e = await explain(token);
    expect(step(e, 'membership')).toEqual({
      name: 'membership',
      outcome: 'PASS',
      detail: `membership ${m1} in project ${p1} (would be linked on first use)`,
    });
    const linked = () =>
      query<{ actor_id: string | null }>(
        bk.databaseUrl,
        'SELECT actor_id FROM project_memberships WHERE id = $1',
        [m1],
      );
    expect((await linked())[0].actor_id).toBeNull();
    expect((await bk.get('/oauth2/userinfo', token)).status).toBe(200);
    expect((await linked())[0].actor_id).not.toBeNull();
    expect(step(await explain(token), 'membership').detail).toBe(
      `membership ${m1} in project ${p1}`,
    );

    await invite(await project('Explain B'));
    const twice = await explain(token);
    expect(step(twice, 'membership')).toEqual({
      name: 'membership',
      outcome: 'FAIL',
      detail: 'matches members of several projects; a project header is needed',
    });
    expect(twice.valid).toBe(false);
  });

  it('is ADMIN only', async () => {
    const user = await stub.token(STUB_AUDIENCE, { sub: 'plain-user' });
    const res = await bk.graphql(EXPLAIN, user, { token: user });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(res.body.data?.explainToken ?? null).toBeNull();
    expect(JSON.stringify(res.body)).not.toContain(user);
    const anonymous = await bk.graphql(EXPLAIN, undefined, { token: user });
    expect(anonymous.body.data?.explainToken ?? null).toBeNull();
  });

  it('bounds the token argument', async () => {
    const res = await bk.graphql(EXPLAIN, admin, { token: 'a'.repeat(20_000) });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('never logs a token it was asked about', () => {
    const logs = bk.logs.join('\n');
    for (const token of asked) {
      for (const part of token.split('.')) if (part.length > 16) expect(logs).not.toContain(part);
    }
  });
});

function b64(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}
