import type { Command } from 'commander';
import { gql } from './api';
import type { CliContext } from './credentials';
import { usage } from './errors';
import { type Column, emit, fields, table } from './output';

type Row = Record<string, unknown>;
const col =
  (name: string): ((r: Row) => unknown) =>
  (r) =>
    r[name];

const ACTOR = 'id issuer subject name email roles status createdAt lastSeenAt';
const ACTOR_COLUMNS: Column<Row>[] = [
  ['id', col('id')],
  ['issuer', col('issuer')],
  ['subject', col('subject')],
  ['name', col('name')],
  ['email', col('email')],
  ['roles', col('roles')],
  ['status', col('status')],
];
const MEMBER = 'id projectId actorId active admin email issuer externalId createdAt';
const MEMBER_COLUMNS: Column<Row>[] = [
  ['id', col('id')],
  ['email', col('email')],
  ['issuer', col('issuer')],
  ['external id', col('externalId')],
  ['actor', col('actorId')],
  ['admin', col('admin')],
  ['active', col('active')],
];
const CLIENT =
  'id clientId name status projectId grantTypes scopes tokenEndpointAuthMethod builtIn createdAt';
const CLIENT_COLUMNS: Column<Row>[] = [
  ['id', col('id')],
  ['client id', col('clientId')],
  ['name', col('name')],
  ['status', col('status')],
  ['grants', col('grantTypes')],
  ['scopes', col('scopes')],
  ['project', col('projectId')],
];
const ISSUER = 'name issuer jwksUrl userinfoUrl audiences algorithms provisioning source editable';
const KEY = 'kid alg status createdAt activatedAt retiredAt publishUntil';

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').filter(Boolean)];
const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw usage('--first must be 1 to 100');
  return n;
};

/** Runs one operation and prints its field: JSON with --json, else a table or key/value lines. */
async function show(
  ctx: CliContext,
  query: string,
  variables: Record<string, unknown>,
  pick: (data: Row) => unknown,
  columns: Column<Row>[] | 'fields',
): Promise<void> {
  const value = pick(await gql<Row>(ctx, query, variables));
  emit(ctx, value, () => {
    if (columns === 'fields') return fields(Object.entries(value as Row));
    return table((Array.isArray(value) ? value : [value]) as Row[], columns);
  });
}

const edges = (conn: unknown) =>
  ((conn as { edges: { node: Row }[] }).edges ?? []).map((e) => e.node);

/** Admin commands over GraphQL: actors, projects, members and invites, clients, issuers, keys. */
export function adminCommands(program: Command, ctx: () => CliContext): void {
  const actors = program.command('actors').description('People and client principals (ADMIN)');
  actors
    .command('list')
    .option('--search <text>', 'email, name, username or subject contains')
    .option('--status <status>', 'ACTIVE or DISABLED')
    .option('--issuer <name>', 'trusted issuer name')
    .option('--first <n>', 'page size (1-100)', int, 20)
    .action((o: { search?: string; status?: string; issuer?: string; first: number }) =>
      show(
        ctx(),
        `query($first: Int!, $filter: ActorFilter) { actors(first: $first, filter: $filter) {
          edges { node { ${ACTOR} } } } }`,
        { first: o.first, filter: { search: o.search, status: o.status, issuer: o.issuer } },
        (d) => edges(d.actors),
        ACTOR_COLUMNS,
      ),
    );
  actors
    .command('get <id>')
    .action((id: string) =>
      show(
        ctx(),
        `query($id: ID!) { actor(id: $id) { ${ACTOR} } }`,
        { id },
        (d) => d.actor ?? {},
        'fields',
      ),
    );
  for (const [name, mutation] of [
    ['disable', 'disableActor'],
    ['enable', 'enableActor'],
  ] as const) {
    actors
      .command(`${name} <id>`)
      .action((id: string) =>
        show(
          ctx(),
          `mutation($id: ID!) { ${mutation}(id: $id) { ${ACTOR} } }`,
          { id },
          (d) => d[mutation],
          ACTOR_COLUMNS,
        ),
      );
  }
  actors
    .command('set-roles <id> [roles...]')
    .description('Replace the roles stored for an actor')
    .action((id: string, roles: string[]) =>
      show(
        ctx(),
        `mutation($id: ID!, $roles: [String!]!) { setActorRoles(id: $id, roles: $roles) { ${ACTOR} } }`,
        { id, roles },
        (d) => d.setActorRoles,
        ACTOR_COLUMNS,
      ),
    );
  actors
    .command('revoke-sessions <id>')
    .description('End every session and grant of an actor')
    .action((id: string) =>
      show(
        ctx(),
        'mutation($id: ID!) { revokeSessions(actorId: $id) }',
        { id },
        (d) => ({ actorId: id, grantsRevoked: d.revokeSessions }),
        'fields',
      ),
    );

  const projects = program.command('projects').description('Projects');
  projects.command('list').action(() =>
    show(ctx(), '{ projects { id name createdAt } }', {}, (d) => d.projects, [
      ['id', col('id')],
      ['name', col('name')],
      ['created', col('createdAt')],
    ]),
  );
  projects
    .command('create <name>')
    .action((name: string) =>
      show(
        ctx(),
        'mutation($name: String!) { createProject(name: $name) { id name createdAt } }',
        { name },
        (d) => d.createProject,
        'fields',
      ),
    );

  const members = program.command('members').description('Project members and invites');
  members
    .command('list <projectId>')
    .action((id: string) =>
      show(
        ctx(),
        `query($id: ID!) { project(id: $id) { memberships { ${MEMBER} } } }`,
        { id },
        (d) => (d.project as Row).memberships,
        MEMBER_COLUMNS,
      ),
    );
  members
    .command('invite <projectId>')
    .description('Invite a person into a project')
    .requiredOption('--first-name <name>')
    .requiredOption('--last-name <name>')
    .option('--email <email>')
    .option('--external-id <sub>', "the person's subject at --issuer")
    .option('--issuer <name>', 'the trusted issuer the member is bound to')
    .option('--type <resourceType>', 'Practitioner, Patient or RelatedPerson', 'Practitioner')
    .option('--admin', 'make the member an admin of the project')
    .option('--send-email', 'send the welcome email')
    .action(
      (
        projectId: string,
        o: {
          firstName: string;
          lastName: string;
          email?: string;
          externalId?: string;
          issuer?: string;
          type: string;
          admin?: boolean;
          sendEmail?: boolean;
        },
      ) => {
        if (!o.email && !o.externalId) throw usage('give --email or --external-id');
        return show(
          ctx(),
          `mutation($projectId: ID!, $input: InviteInput!) {
            inviteMember(projectId: $projectId, input: $input) { ${MEMBER} inviteEmailSent setPasswordLink } }`,
          {
            projectId,
            input: {
              resourceType: o.type,
              firstName: o.firstName,
              lastName: o.lastName,
              email: o.email,
              externalId: o.externalId,
              issuer: o.issuer,
              admin: o.admin,
              sendEmail: o.sendEmail,
            },
          },
          (d) => d.inviteMember,
          'fields',
        );
      },
    );
  for (const [name, active] of [
    ['activate', true],
    ['deactivate', false],
  ] as const) {
    members
      .command(`${name} <membershipId>`)
      .action((id: string) =>
        show(
          ctx(),
          `mutation($id: ID!, $active: Boolean!) { setMembershipActive(id: $id, active: $active) { ${MEMBER} } }`,
          { id, active },
          (d) => d.setMembershipActive,
          MEMBER_COLUMNS,
        ),
      );
  }
  members
    .command('remove <membershipId>')
    .action((id: string) =>
      show(
        ctx(),
        `mutation($id: ID!) { removeMembership(id: $id) { ${MEMBER} } }`,
        { id },
        (d) => d.removeMembership,
        MEMBER_COLUMNS,
      ),
    );

  const clients = program.command('clients').description('OAuth clients (ADMIN)');
  clients
    .command('list')
    .option('--project <id>', 'only the clients of this project')
    .option('--first <n>', 'page size (1-100)', int, 50)
    .action((o: { project?: string; first: number }) =>
      show(
        ctx(),
        `query($first: Int!, $projectId: ID) { clients(first: $first, projectId: $projectId) {
          edges { node { ${CLIENT} } } } }`,
        { first: o.first, projectId: o.project },
        (d) => edges(d.clients),
        CLIENT_COLUMNS,
      ),
    );
  clients
    .command('create <name>')
    .description('Register a client; its secret is printed once')
    .option(
      '--grant <grant>',
      'CLIENT_CREDENTIALS, REFRESH_TOKEN, TOKEN_EXCHANGE, AUTHORIZATION_CODE (repeatable)',
      list,
    )
    .option('--scope <scope>', 'a scope it may be granted (repeatable)', list)
    .option('--role <role>', "a role of the client's principal (repeatable)", list)
    .option('--project <id>', 'limit the client to one project')
    .option('--redirect-uri <uri>', 'a redirect URI (repeatable)', list)
    .action(
      (
        name: string,
        o: {
          grant?: string[];
          scope?: string[];
          role?: string[];
          project?: string;
          redirectUri?: string[];
        },
      ) =>
        show(
          ctx(),
          `mutation($input: CreateClientInput!) { createClient(input: $input) {
            client { ${CLIENT} } clientSecret } }`,
          {
            input: {
              name,
              grantTypes: o.grant ?? ['CLIENT_CREDENTIALS'],
              scopes: o.scope ?? [],
              roles: o.role,
              projectId: o.project,
              redirectUris: o.redirectUri,
            },
          },
          (d) => {
            const r = d.createClient as { client: Row; clientSecret: string | null };
            return { ...r.client, clientSecret: r.clientSecret };
          },
          'fields',
        ),
    );
  clients
    .command('rotate-secret <id>')
    .description('A new secret, printed once; the old one stops working')
    .action((id: string) =>
      show(
        ctx(),
        `mutation($id: ID!) { rotateClientSecret(id: $id) { client { ${CLIENT} } clientSecret } }`,
        { id },
        (d) => {
          const r = d.rotateClientSecret as { client: Row; clientSecret: string | null };
          return { clientId: r.client.clientId, clientSecret: r.clientSecret };
        },
        'fields',
      ),
    );
  for (const [name, mutation] of [
    ['disable', 'disableClient'],
    ['enable', 'enableClient'],
  ] as const) {
    clients
      .command(`${name} <id>`)
      .action((id: string) =>
        show(
          ctx(),
          `mutation($id: ID!) { ${mutation}(id: $id) { ${CLIENT} } }`,
          { id },
          (d) => d[mutation],
          CLIENT_COLUMNS,
        ),
      );
  }

  const issuers = program.command('issuers').description('Trusted issuers (ADMIN)');
  issuers.command('list').action(() =>
    show(ctx(), `{ trustedIssuers { ${ISSUER} } }`, {}, (d) => d.trustedIssuers, [
      ['name', col('name')],
      ['issuer', col('issuer')],
      ['audiences', col('audiences')],
      ['provisioning', col('provisioning')],
      ['source', col('source')],
    ]),
  );
  issuers
    .command('add <name> <issuer>')
    .description('Trust an issuer (its JWKS or userinfo endpoint is checked first)')
    .option('--jwks <url>')
    .option('--userinfo <url>')
    .option('--audience <aud>', 'an accepted audience (repeatable)', list)
    .option('--provisioning <mode>', 'JIT or EXISTING')
    .action(
      (
        name: string,
        issuer: string,
        o: { jwks?: string; userinfo?: string; audience?: string[]; provisioning?: string },
      ) =>
        show(
          ctx(),
          `mutation($input: CreateTrustedIssuerInput!) { createTrustedIssuer(input: $input) { ${ISSUER} } }`,
          {
            input: {
              name,
              issuer,
              jwksUrl: o.jwks,
              userinfoUrl: o.userinfo,
              audiences: o.audience,
              provisioning: o.provisioning,
            },
          },
          (d) => d.createTrustedIssuer,
          'fields',
        ),
    );
  issuers
    .command('remove <name>')
    .action((name: string) =>
      show(
        ctx(),
        'mutation($name: String!) { deleteTrustedIssuer(name: $name) }',
        { name },
        (d) => ({ name, removed: d.deleteTrustedIssuer }),
        'fields',
      ),
    );

  const keys = program.command('keys').description('Signing keys (ADMIN)');
  keys.command('list').action(() =>
    show(ctx(), `{ signingKeys { ${KEY} } }`, {}, (d) => d.signingKeys, [
      ['kid', col('kid')],
      ['alg', col('alg')],
      ['status', col('status')],
      ['activated', col('activatedAt')],
      ['retired', col('retiredAt')],
    ]),
  );
  keys
    .command('rotate')
    .description('Rotate now (the emergency lever)')
    .action(() =>
      show(
        ctx(),
        `mutation { rotateSigningKey { ${KEY} } }`,
        {},
        (d) => d.rotateSigningKey,
        'fields',
      ),
    );
}
