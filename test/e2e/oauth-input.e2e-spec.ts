import { randomUUID } from 'node:crypto';
import type { RunningBridgekeeper } from '../support/bridgekeeper';
import { CREATE_CLIENT, clientInput } from '../support/gql-ops';
import { type IdpAndNode, startIdpAndNode } from '../support/idp-node';

// Bad input at the OAuth endpoints and in client registration: a clear 4xx with the right body, never a
// 500, never an echo of what was sent (issue 4, SECURITY.md rules 4 and 14).
describe('OAuth provider input handling', () => {
  let env: IdpAndNode;
  let bk: RunningBridgekeeper;
  let adminToken: string;

  beforeAll(async () => {
    env = await startIdpAndNode();
    ({ bk, adminToken } = env);
  });

  afterAll(() => env?.close());

  /** The raw answer: these tests are about the refusals. */
  const createClient = (input: Record<string, unknown>) =>
    bk.graphql(CREATE_CLIENT, adminToken, clientInput(input));

  it.each([
    ['no grant type', { grantTypes: [] }],
    ['a scope that is not a scope token', { scopes: ['bad scope'] }],
    ['a blank name', { name: '   ' }],
    ['a lower-case role', { roles: ['admin'] }],
    ['token exchange without an issuer policy', { grantTypes: ['TOKEN_EXCHANGE'] }],
    ['an exchange issuer that is not trusted', { exchangeIssuers: ['nosuch'] }],
    ['refresh tokens without offline_access', { grantTypes: ['REFRESH_TOKEN'] }],
    ['a project id that is not a UUID', { projectId: 'p1' }],
  ])('refuses a client with %s as BAD_USER_INPUT', async (_what, input) => {
    const res = await createClient(input);
    expect(res.status).toBe(200);
    expect(res.body.data).toBeNull();
    expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a client of an unknown project as NOT_FOUND', async () => {
    const res = await createClient({ projectId: randomUUID() });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('answers clients operations on unknown ids with NOT_FOUND', async () => {
    for (const op of ['rotateClientSecret', 'disableClient']) {
      const res = await bk.graphql(
        `mutation($id: ID!) { ${op}(id: $id) { __typename } }`,
        adminToken,
        { id: randomUUID() },
      );
      expect(res.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
  });

  async function post(path: string, body: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${bk.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });
    return { status: res.status, text: await res.text() };
  }

  it.each(['/oauth2/token', '/oauth2/revoke', '/oauth2/introspect'])(
    '%s answers malformed bodies and credentials with 4xx, never a 500 or an echo',
    async (path) => {
      const cases: [string, Record<string, string>][] = [
        ['grant_type=%zz&token=%&client_id=%E0%A4%A', {}],
        ['a'.repeat(70 * 1024), {}],
        ['grant_type=client_credentials', { authorization: 'Basic !!!not-base64!!!' }],
        [
          'grant_type=client_credentials',
          { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` },
        ],
        [
          'grant_type=client_credentials',
          { authorization: `Basic ${Buffer.from('%zz:%zz').toString('base64')}` },
        ],
        [`client_id=${'x'.repeat(5000)}&client_secret=s3cr3t-value`, {}],
      ];
      for (const [body, headers] of cases) {
        const res = await post(path, body, headers);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.text).not.toContain('s3cr3t-value');
        expect(res.text).not.toContain('%zz');
      }
    },
  );

  it('never logs a client secret or a token sent to the OAuth endpoints', async () => {
    await post(
      '/oauth2/token',
      'grant_type=client_credentials&client_id=bkc_x&client_secret=leak-me-1',
    );
    await post('/oauth2/introspect', 'token=leak-me-2&client_id=bkc_x&client_secret=leak-me-3');
    const logs = bk.logs.join('\n');
    for (const secret of ['leak-me-1', 'leak-me-2', 'leak-me-3'])
      expect(logs).not.toContain(secret);
  });
});
