import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { createProject } from '../support/gql-ops';
import { JwksStub } from '../support/jwks-stub';
import { type ReceivedMail, SmtpTestServer } from '../support/smtp';
import { waitFor } from '../support/ports';
import { inviteOverRest } from '../support/rest-ops';

// Issue 3 §4: welcome emails through a real SMTP server on loopback, from an operator template.
describe('invite welcome email', () => {
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
      issuers: [stub.trustedIssuer('stub', 'aud')],
      admins: ['stub:root'],
      properties: {
        'bridgekeeper.smtp.url': smtp.url,
        'bridgekeeper.smtp.from': 'Clinic <clinic@example.com>',
        'bridgekeeper.invite.email.subject': 'Welcome to {{project}}, {{name}}',
        'bridgekeeper.invite.email.body': 'Dear {{name}},\\njoin {{project}} at {{link}}\\n',
        'bridgekeeper.invite.signin.url': 'https://app.example.com/signin',
      },
    });
    admin = await stub.token('aud', { sub: 'root' });
  });

  afterAll(async () => {
    await bk?.close();
    await smtp?.stop();
    await stub?.stop();
  });

  const project = (name: string) => createProject(bk, admin, name);
  const invite = (projectId: string, body: Record<string, unknown>) =>
    inviteOverRest<{ inviteEmailSent: boolean }>(bk, admin, projectId, body);

  it('sends the templated email after the invite is stored, and says so', async () => {
    const p = await project('Harbor Clinic');
    const res = await invite(p, {
      resourceType: 'Practitioner',
      firstName: 'Jane',
      lastName: 'Smith',
      email: 'jane@example.com',
      // With an externalId the person signs in through the trusted issuer: the sign-in URL.
      externalId: 'jane-ext',
      sendEmail: true,
    });
    expect(res.status).toBe(201);
    expect(res.body.inviteEmailSent).toBe(true);
    await waitFor('the email', async () => received.length > 0, 5000);
    const mail = received[0];
    expect(mail.to).toEqual(['jane@example.com']);
    const text = mail.raw.replace(/=\r?\n/g, '');
    expect(text).toMatch(/Subject: Welcome to Harbor Clinic, Jane Smith/);
    expect(text).toMatch(/Dear Jane Smith,/);
    expect(text).toContain('join Harbor Clinic at https://app.example.com/signin');
    expect(text).toMatch(/From: Clinic <clinic@example.com>/);
  });

  it('never lets invite input inject mail headers', async () => {
    const p = await project('Headers');
    const before = received.length;
    const res = await invite(p, {
      resourceType: 'Practitioner',
      firstName: 'Eve\r\nBcc: victim@example.com',
      lastName: 'X',
      email: 'eve@example.com',
      sendEmail: true,
    });
    expect(res.status).toBe(201);
    await waitFor('the email', async () => received.length > before, 5000);
    const mail = received[received.length - 1];
    expect(mail.to).toEqual(['eve@example.com']);
    expect(mail.raw).not.toMatch(/^Bcc:/im);
    expect(mail.raw).toMatch(/Subject: Welcome to Headers, Eve Bcc: victim@example.com X/);
  });

  it('does not send without sendEmail or without an email address', async () => {
    const p = await project('Quiet');
    const before = received.length;
    const noFlag = await invite(p, {
      resourceType: 'Patient',
      firstName: 'A',
      lastName: 'B',
      email: 'a@example.com',
    });
    expect(noFlag.body.inviteEmailSent).toBe(false);
    const noEmail = await invite(p, {
      resourceType: 'Patient',
      firstName: 'C',
      lastName: 'D',
      externalId: 'cd',
      sendEmail: true,
    });
    expect(noEmail.status).toBe(201);
    expect(noEmail.body.inviteEmailSent).toBe(false);
    expect(received.length).toBe(before);
  });

  it('keeps the invite when the SMTP server is down, reporting the email as not sent', async () => {
    const p = await project('Offline');
    await smtp.stop();
    const res = await invite(p, {
      resourceType: 'Patient',
      firstName: 'E',
      lastName: 'F',
      email: 'ef@example.com',
      sendEmail: true,
    });
    expect(res.status).toBe(201);
    expect(res.body.inviteEmailSent).toBe(false);
    expect(bk.logs.join('\n')).toMatch(/invite email not sent/);
  });
});
