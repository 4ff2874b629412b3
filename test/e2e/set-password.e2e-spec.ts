import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { TestBrowser } from '../support/browser';
import { JwksStub } from '../support/jwks-stub';
import { type ReceivedMail, SmtpTestServer } from '../support/smtp';
import { query } from '../support/postgres';

const PASSWORD = 'invited person passphrase';
const NEW_PASSWORD = 'a brand new passphrase';

// Issue 9 §1: an email-only invite sends a one-time set-password link (real SMTP server); setting the
// password creates the local account bound to the membership; an admin sends a reset link.
describe('set-password and reset links', () => {
  let stub: JwksStub;
  let smtp: SmtpTestServer;
  let bk: RunningBridgekeeper;
  let admin: string;
  let received: ReceivedMail[];

  beforeAll(async () => {
    stub = await JwksStub.start();
    smtp = await SmtpTestServer.start();
    received = smtp.received;
    bk = await startBridgekeeper({
      issuers: [{ name: 'stub', issuer: stub.issuer, jwks: stub.jwksUrl, audiences: 'aud' }],
      admins: ['stub:root'],
      properties: {
        'bridgekeeper.smtp.url': smtp.url,
        'bridgekeeper.invite.email.body': 'Dear {{name}},\\njoin {{project}} at {{link}}\\n',
      },
    });
    admin = await stub.token('aud', { sub: 'root' });
  });

  afterAll(async () => {
    await bk?.close();
    await smtp?.stop();
    await stub?.stop();
  });

  it('invite → email → set password → signed in, membership bound; the link works once', async () => {
    const created = await bk.graphql(
      `mutation { createProject(name: "Harbor Clinic") { id } }`,
      admin,
    );
    const projectId = (created.body.data?.createProject as { id: string }).id;
    const before = received.length;
    const res = await bk.post(
      `/admin/projects/${projectId}/invite`,
      {
        resourceType: 'Practitioner',
        firstName: 'Jane',
        lastName: 'Smith',
        email: 'Jane@Example.com',
        sendEmail: true,
      },
      admin,
    );
    expect(res.status).toBe(201);
    const answer = (await res.json()) as { id: string; setPasswordLink: string | null };
    // The email carried the link: the answer does not.
    expect(answer.setPasswordLink).toBeNull();
    const membershipId = answer.id;
    const link = await smtp.setPasswordLinkSentTo('jane@example.com', before);
    expect(link.startsWith(`${bk.url}/login/set-password?token=`)).toBe(true);
    const secret = new URL(link).searchParams.get('token')!;
    const stored = await query(bk.databaseUrl, 'SELECT * FROM one_time_links');
    expect(JSON.stringify(stored)).not.toContain(secret);

    const b = new TestBrowser(bk.url);
    const open = await b.get(link);
    expect(open.status).toBe(303);
    expect(open.headers.get('referrer-policy')).toBe('no-referrer');
    expect(open.headers.get('location')).toBe('/login/set-password');
    const page = await b.get('/login/set-password');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('jane@example.com');
    const done = await b.submit('/login/set-password', { password: PASSWORD, confirm: PASSWORD });
    expect(done.status).toBe(303);
    expect(b.cookies.has('bk_session')).toBe(true);
    expect(await (await b.get('/login')).text()).toContain('Jane Smith');

    const [membership] = await query<{ actor_id: string }>(
      bk.databaseUrl,
      'SELECT actor_id FROM project_memberships WHERE id = $1',
      [membershipId],
    );
    const [account] = await query<{ actor_id: string; email: string }>(
      bk.databaseUrl,
      "SELECT actor_id, email FROM local_accounts WHERE email = 'jane@example.com'",
    );
    expect(membership.actor_id).toBe(account.actor_id);

    // Single use.
    const again = new TestBrowser(bk.url);
    expect((await again.get(link)).status).toBe(404);
    // The invited person signs in with the email and the new password.
    const login = new TestBrowser(bk.url);
    expect(
      (await login.submit('/login', { username: 'jane@example.com', password: PASSWORD })).status,
    ).toBe(303);
  });

  it('an admin sends a reset link; the new password works, the old one and old sessions do not', async () => {
    const [account] = await query<{ actor_id: string }>(
      bk.databaseUrl,
      "SELECT actor_id FROM local_accounts WHERE email = 'jane@example.com'",
    );
    const old = new TestBrowser(bk.url);
    expect(
      (await old.submit('/login', { username: 'jane@example.com', password: PASSWORD })).status,
    ).toBe(303);
    const before = received.length;
    const res = await bk.graphql(
      `mutation($id: ID!) { sendPasswordResetLink(id: $id) { emailSent link expiresAt } }`,
      admin,
      { id: account.actor_id },
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.sendPasswordResetLink).toMatchObject({ emailSent: true, link: null });
    const link = await smtp.setPasswordLinkSentTo('jane@example.com', before);
    const b = new TestBrowser(bk.url);
    expect((await b.get(link)).status).toBe(303);
    expect(await (await b.get('/login/set-password')).text()).toContain('Reset your password');
    const done = await b.submit('/login/set-password', {
      password: NEW_PASSWORD,
      confirm: NEW_PASSWORD,
    });
    expect(done.status).toBe(303);
    // The earlier browser session ended; the old password no longer works; the new one does.
    expect(await (await old.get('/login')).text()).toContain('name="password"');
    const wrong = await new TestBrowser(bk.url).submit('/login', {
      username: 'jane@example.com',
      password: PASSWORD,
    });
    expect(wrong.status).toBe(401);
    const right = await new TestBrowser(bk.url).submit('/login', {
      username: 'jane@example.com',
      password: NEW_PASSWORD,
    });
    expect(right.status).toBe(303);
    expect((await new TestBrowser(bk.url).get(link)).status).toBe(404);
  });

  it('refuses reset links to non-admins and for actors without a local account', async () => {
    const user = await stub.token('aud', { sub: 'someone' });
    const [account] = await query<{ actor_id: string }>(
      bk.databaseUrl,
      'SELECT actor_id FROM local_accounts LIMIT 1',
    );
    const denied = await bk.graphql(
      `mutation($id: ID!) { sendPasswordResetLink(id: $id) { emailSent } }`,
      user,
      { id: account.actor_id },
    );
    expect(denied.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const unknown = await bk.graphql(
      `mutation($id: ID!) { sendPasswordResetLink(id: $id) { emailSent } }`,
      admin,
      { id: '00000000-0000-4000-8000-000000000000' },
    );
    expect(unknown.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});

// Without email (the quick start has no SMTP server), the inviting admin gets the invite's set-password
// link in the answer, once, to hand over (an agent's MCP call never gets one: mcp.e2e-spec).
describe('set-password links without email', () => {
  let stub: JwksStub;
  let bk: RunningBridgekeeper;
  let admin: string;

  beforeAll(async () => {
    stub = await JwksStub.start();
    bk = await startBridgekeeper({
      issuers: [{ name: 'stub', issuer: stub.issuer, jwks: stub.jwksUrl, audiences: 'aud' }],
      admins: ['stub:root'],
    });
    admin = await stub.token('aud', { sub: 'root' });
  });

  afterAll(async () => {
    await bk?.close();
    await stub?.stop();
  });

  const INVITE = `mutation($projectId: ID!, $input: InviteInput!) {
    inviteMember(projectId: $projectId, input: $input) { id inviteEmailSent setPasswordLink }
  }`;

  it('answers the link of an email-only invite; a repeated invite replaces it; it creates the account', async () => {
    const created = await bk.graphql(
      `mutation { createProject(name: "Quay Clinic") { id } }`,
      admin,
    );
    const projectId = (created.body.data?.createProject as { id: string }).id;
    const person = {
      resourceType: 'Practitioner',
      firstName: 'Omar',
      lastName: 'Haddad',
      email: 'omar@example.com',
      sendEmail: true,
    };
    const rest = await bk.post(`/admin/projects/${projectId}/invite`, person, admin);
    expect(rest.status).toBe(201);
    expect(rest.headers.get('cache-control')).toBe('no-store');
    const first = (await rest.json()) as { inviteEmailSent: boolean; setPasswordLink: string };
    expect(first.inviteEmailSent).toBe(false);
    expect(first.setPasswordLink.startsWith(`${bk.url}/login/set-password?token=`)).toBe(true);

    const again = await bk.graphql(INVITE, admin, {
      projectId,
      input: { ...person, sendEmail: false, upsert: true },
    });
    expect(again.body.errors).toBeUndefined();
    const second = again.body.data!.inviteMember as { setPasswordLink: string };
    expect(second.setPasswordLink).not.toBe(first.setPasswordLink);
    // The first link stopped working when the second was made.
    expect((await new TestBrowser(bk.url).get(first.setPasswordLink)).status).toBe(404);

    const b = new TestBrowser(bk.url);
    expect((await b.get(second.setPasswordLink)).status).toBe(303);
    const done = await b.submit('/login/set-password', { password: PASSWORD, confirm: PASSWORD });
    expect(done.status).toBe(303);
    const login = new TestBrowser(bk.url);
    expect(
      (await login.submit('/login', { username: 'omar@example.com', password: PASSWORD })).status,
    ).toBe(303);

    // Signed in now: inviting them again makes no link. An invite bound to an issuer never has one.
    const afterSignIn = await bk.graphql(INVITE, admin, {
      projectId,
      input: { ...person, upsert: true },
    });
    expect(afterSignIn.body.data!.inviteMember).toMatchObject({ setPasswordLink: null });
    const bound = await bk.graphql(INVITE, admin, {
      projectId,
      input: { ...person, email: 'lena@example.com', externalId: 'lena', issuer: 'stub' },
    });
    expect(bound.body.data!.inviteMember).toMatchObject({ setPasswordLink: null });

    // The links never reach the log.
    const logs = bk.logs.join('\n');
    for (const link of [first.setPasswordLink, second.setPasswordLink])
      expect(logs).not.toContain(new URL(link).searchParams.get('token')!);
  });
});
