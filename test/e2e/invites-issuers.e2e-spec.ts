import { decodeJwt } from 'jose';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';
import { query } from '../support/postgres';

// Issue 12, bugs 1 and 2: an invite sees exactly the issuers the validator trusts (configuration and
// runtime ones), and the issuer it names binds the membership with or without an externalId, so that a
// token of that issuer whose fhirUser names the invited profile finds the member. The invite answer says
// how the invited person will be recognised.
const CORP_AUD = 'bk-corp';
const PARTNER_AUD = 'bk-partner';
const THIRD_AUD = 'bk-third';
const NPI = 'http://hl7.org/fhir/sid/us-npi';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

const CREATE_ISSUER = `mutation ($input: CreateTrustedIssuerInput!) {
  createTrustedIssuer(input: $input) { name }
}`;
const INVITE = `mutation ($p: ID!, $i: InviteInput!) {
  inviteMember(projectId: $p, input: $i) {
    id issuer externalId email profile { id reference }
    recognisedBy { method issuer claim value }
  }
}`;

interface Recognition {
  method: 'EXTERNAL_ID' | 'FHIR_USER' | 'VERIFIED_EMAIL';
  issuer: string;
  claim: string;
  value: string;
}

interface Invited {
  id: string;
  issuer: string | null;
  externalId: string | null;
  email: string | null;
  profile: { id: string; reference: string };
  recognisedBy: Recognition[];
  error_description?: string;
}

describe('invites and trusted issuers (configuration and runtime)', () => {
  let corp: JwksStub;
  let partner: JwksStub;
  let third: JwksStub | undefined;
  let bk: RunningBridgekeeper;
  let admin: string;
  let project: string;

  beforeAll(async () => {
    [corp, partner] = await Promise.all([JwksStub.start(), JwksStub.start()]);
    bk = await startBridgekeeper({
      issuers: [{ name: 'corp', issuer: corp.issuer, jwks: corp.jwksUrl, audiences: CORP_AUD }],
      admins: ['corp:root'],
    });
    admin = await corp.token(CORP_AUD, { sub: 'root' });
    const created = await bk.graphql(CREATE_ISSUER, admin, {
      input: {
        name: 'partner',
        issuer: partner.issuer,
        jwksUrl: partner.jwksUrl,
        audiences: [PARTNER_AUD],
        emailMatching: true,
      },
    });
    expect(created.body.errors).toBeUndefined();
    const p = await bk.graphql('mutation { createProject(name: "Harbor") { id } }', admin);
    project = (p.body.data?.createProject as { id: string }).id;
  });

  afterAll(async () => {
    await bk?.close();
    await Promise.all([corp?.stop(), partner?.stop(), third?.stop()]);
  });

  async function restInvite(body: Record<string, unknown>) {
    const res = await bk.post(`/admin/projects/${project}/invite`, body, admin);
    return { status: res.status, body: (await res.json()) as Invited };
  }

  async function gqlInvite(input: Record<string, unknown>) {
    const res = await bk.graphql(INVITE, admin, { p: project, i: input });
    return { errors: res.body.errors, invited: res.body.data?.inviteMember as Invited | undefined };
  }

  async function userinfo(token: string) {
    const res = await bk.get('/oauth2/userinfo', token);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const person = (firstName: string) => ({
    resourceType: 'Practitioner',
    firstName,
    lastName: 'Q',
  });

  describe('bug 1: an invite may name an issuer created at runtime', () => {
    it('over GraphQL, and the runtime issuer then finds the member by sub', async () => {
      const { errors, invited } = await gqlInvite({
        ...person('Erin'),
        externalId: 'erin',
        issuer: 'partner',
      });
      expect(errors).toBeUndefined();
      expect(invited).toMatchObject({ issuer: 'partner', externalId: 'erin' });
      const res = await userinfo(await partner.token(PARTNER_AUD, { sub: 'erin' }));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ membership: invited!.id, project });
    });

    it('over REST', async () => {
      const res = await restInvite({ ...person('Frank'), externalId: 'frank', issuer: 'partner' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ issuer: 'partner', externalId: 'frank' });
    });

    it('refuses an externalId without issuer when a configured and a runtime issuer are trusted', async () => {
      const rest = await restInvite({ ...person('Gus'), externalId: 'gus' });
      expect(rest.status).toBe(400);
      expect(rest.body.error_description).toMatch(
        /issuer is required with externalId when more than one issuer is trusted/,
      );
      const gql = await gqlInvite({ ...person('Gus'), externalId: 'gus' });
      expect(gql.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      // Nothing was stored, bound to either issuer.
      const rows = await query(
        bk.databaseUrl,
        "SELECT id FROM project_memberships WHERE external_id = 'gus'",
      );
      expect(rows).toHaveLength(0);
    });

    it('still refuses an issuer nobody trusts', async () => {
      const res = await restInvite({ ...person('Hal'), externalId: 'hal', issuer: 'nobody' });
      expect(res.status).toBe(400);
      expect(res.body.error_description).toMatch(/issuer is not a trusted issuer/);
    });
  });

  describe('bug 2: the issuer binds the membership without an externalId too', () => {
    it('stores the issuer, and a token of that issuer finds the member by fhirUser (identifier and reference)', async () => {
      const res = await restInvite({
        ...person('Ivy'),
        email: 'ivy@example.com',
        issuer: 'partner',
        identifiers: [{ system: NPI, value: '1234567890' }],
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ issuer: 'partner', externalId: null });
      const m = res.body;

      const byIdentifier = await userinfo(
        await partner.token(PARTNER_AUD, {
          sub: 'ivy-at-partner',
          fhirUser: `Practitioner?identifier=${NPI}|1234567890`,
        }),
      );
      expect(byIdentifier.status).toBe(200);
      expect(byIdentifier.body).toMatchObject({
        membership: m.id,
        project,
        profile: m.profile.reference,
      });
      const byReference = await userinfo(
        await partner.token(PARTNER_AUD, {
          sub: 'ivy-at-partner',
          fhirUser: m.profile.reference,
        }),
      );
      expect(byReference.status).toBe(200);
      expect(byReference.body).toMatchObject({ membership: m.id });

      // Only memberships bound to the token's own issuer are searched.
      const other = await userinfo(
        await corp.token(CORP_AUD, { sub: 'ivy-at-corp', fhirUser: m.profile.reference }),
      );
      expect(other.status).toBe(200);
      expect(other.body.membership).toBeUndefined();
    });

    it('says how the invited person will be recognised', async () => {
      const withExternal = await gqlInvite({
        ...person('Jo'),
        externalId: 'jo',
        issuer: 'partner',
        identifiers: [{ system: NPI, value: '555' }, { value: 'local-9' }],
      });
      expect(withExternal.errors).toBeUndefined();
      const jo = withExternal.invited!;
      expect(jo.recognisedBy).toEqual([
        { method: 'EXTERNAL_ID', issuer: 'partner', claim: 'sub', value: 'jo' },
        { method: 'FHIR_USER', issuer: 'partner', claim: 'fhirUser', value: jo.profile.reference },
        {
          method: 'FHIR_USER',
          issuer: 'partner',
          claim: 'fhirUser',
          value: `Practitioner?identifier=${NPI}|555`,
        },
        {
          method: 'FHIR_USER',
          issuer: 'partner',
          claim: 'fhirUser',
          value: 'Practitioner?identifier=local-9',
        },
      ]);

      // Bound to an issuer that allows email matching: its verified email through token exchange.
      const kim = await restInvite({
        ...person('Kim'),
        email: 'Kim@Example.com',
        issuer: 'partner',
      });
      expect(kim.status).toBe(201);
      expect(kim.body.recognisedBy).toEqual([
        {
          method: 'FHIR_USER',
          issuer: 'partner',
          claim: 'fhirUser',
          value: kim.body.profile.reference,
        },
        { method: 'VERIFIED_EMAIL', issuer: 'partner', claim: 'email', value: 'kim@example.com' },
      ]);

      // No issuer: stays unbound; only a verified email of an issuer that allows email matching.
      const lee = await restInvite({ ...person('Lee'), email: 'lee@example.com' });
      expect(lee.status).toBe(201);
      expect(lee.body.issuer).toBeNull();
      expect(lee.body.recognisedBy).toEqual([
        { method: 'VERIFIED_EMAIL', issuer: 'partner', claim: 'email', value: 'lee@example.com' },
      ]);

      // Bound to an issuer without email matching and no externalId: fhirUser only.
      const max = await restInvite({ ...person('Max'), email: 'max@example.com', issuer: 'corp' });
      expect(max.status).toBe(201);
      expect(max.body.recognisedBy).toEqual([
        {
          method: 'FHIR_USER',
          issuer: 'corp',
          claim: 'fhirUser',
          value: max.body.profile.reference,
        },
      ]);
    });

    it('binds an unbound member on upsert, but never moves a member to another issuer', async () => {
      const first = await restInvite({ ...person('Ned'), email: 'ned@example.com' });
      expect(first.status).toBe(201);
      expect(first.body.issuer).toBeNull();
      const bound = await restInvite({
        ...person('Ned'),
        email: 'ned@example.com',
        issuer: 'partner',
        upsert: true,
      });
      expect(bound.status).toBe(200);
      expect(bound.body).toMatchObject({ id: first.body.id, issuer: 'partner' });
      const moved = await restInvite({
        ...person('Ned'),
        email: 'ned@example.com',
        issuer: 'corp',
        upsert: true,
      });
      expect(moved.status).toBe(409);
      expect(moved.body.error_description).toMatch(/another issuer/);
      const [row] = await query<{ issuer_name: string }>(
        bk.databaseUrl,
        'SELECT issuer_name FROM project_memberships WHERE id = $1',
        [first.body.id],
      );
      expect(row.issuer_name).toBe('partner');
    });

    it('refuses identifiers that no fhirUser identifier search could match', async () => {
      const res = await restInvite({
        ...person('Uma'),
        email: 'uma@example.com',
        issuer: 'partner',
        identifiers: [{ system: NPI, value: 'a|b' }],
      });
      expect(res.status).toBe(400);
      expect(res.body.error_description).toMatch(/cannot contain \|/);
    });

    it("recognises a verified email through token exchange only from the member's own issuer", async () => {
      third = await JwksStub.start();
      const created = await bk.graphql(CREATE_ISSUER, admin, {
        input: {
          name: 'third',
          issuer: third.issuer,
          jwksUrl: third.jwksUrl,
          audiences: [THIRD_AUD],
          emailMatching: true,
        },
      });
      expect(created.body.errors).toBeUndefined();
      const pat = await restInvite({
        ...person('Pat'),
        email: 'pat@example.com',
        issuer: 'partner',
      });
      expect(pat.status).toBe(201);
      expect(pat.body.recognisedBy.filter((r) => r.method === 'VERIFIED_EMAIL')).toEqual([
        { method: 'VERIFIED_EMAIL', issuer: 'partner', claim: 'email', value: 'pat@example.com' },
      ]);

      const client = await bk.graphql(
        `mutation($input: CreateClientInput!) { createClient(input: $input) { client { clientId } clientSecret } }`,
        admin,
        {
          input: {
            name: 'email app',
            grantTypes: ['TOKEN_EXCHANGE'],
            scopes: ['api'],
            exchangeIssuers: ['partner', 'third'],
            subjectResolution: 'EMAIL',
            projectId: project,
          },
        },
      );
      expect(client.body.errors).toBeUndefined();
      const { client: c, clientSecret } = client.body.data!.createClient as {
        client: { clientId: string };
        clientSecret: string;
      };
      const exchange = async (subjectToken: string) => {
        const res = await fetch(`${bk.url}/oauth2/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${c.clientId}:${clientSecret}`).toString('base64')}`,
          },
          body: new URLSearchParams({
            grant_type: EXCHANGE,
            subject_token: subjectToken,
            subject_token_type: ACCESS_TOKEN_TYPE,
          }).toString(),
        });
        return { status: res.status, body: (await res.json()) as Record<string, string> };
      };
      const verified = { email: 'pat@example.com', email_verified: true };
      const elsewhere = await exchange(
        await third.token(THIRD_AUD, { sub: 'pat-at-third', ...verified }),
      );
      expect(elsewhere.status).toBe(400);
      expect(elsewhere.body.error).toBe('invalid_grant');
      const own = await exchange(
        await partner.token(PARTNER_AUD, { sub: 'pat-at-partner', ...verified }),
      );
      expect(own.status).toBe(200);
      expect(decodeJwt(own.body.access_token)).toMatchObject({ membership: pat.body.id });
    });
  });
});
