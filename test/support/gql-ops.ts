import type { RunningBridgekeeper } from './bridgekeeper';

// The admin operations e2e tests need as set-up, written once: each returns the parsed result and fails
// the test with the GraphQL errors when the operation is refused. A test about a refusal sends the
// exported document itself (`node.graphql(CREATE_CLIENT, …)`) and looks at the errors.

/** What the factories need of a node: its GraphQL endpoint. */
export type GqlNode = Pick<RunningBridgekeeper, 'graphql'>;

/** The data of an operation that must succeed; throws with the status and errors otherwise. */
export async function gqlData<T = Record<string, unknown>>(
  node: GqlNode,
  token: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const res = await node.graphql(query, token, variables);
  if (res.status !== 200 || res.body.errors?.length || !res.body.data) {
    const name = /\{\s*(\w+)/.exec(query)?.[1] ?? 'operation';
    throw new Error(
      `GraphQL ${name} failed with ${res.status}: ${JSON.stringify(res.body.errors ?? res.body)}`,
    );
  }
  return res.body.data as T;
}

/** One field of an operation that must succeed, e.g. `createProject` of `{ createProject { … } }`. */
async function gqlField<T>(
  node: GqlNode,
  token: string,
  field: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  return (await gqlData<Record<string, T>>(node, token, query, variables))[field]!;
}

// ── projects and members ──────────────────────────────────────────────────────────────────────────

export const CREATE_PROJECT = 'mutation($name: String!) { createProject(name: $name) { id name } }';

/** Creates a project; returns its id. */
export async function createProject(node: GqlNode, token: string, name: string): Promise<string> {
  return (await gqlField<{ id: string }>(node, token, 'createProject', CREATE_PROJECT, { name }))
    .id;
}

export const INVITE_MEMBER = `mutation($projectId: ID!, $input: InviteInput!) {
  inviteMember(projectId: $projectId, input: $input) {
    id projectId actorId active admin externalId issuer email inviteEmailSent
    profile { id reference }
  }
}`;

export interface InvitedMember {
  id: string;
  projectId: string;
  actorId: string | null;
  active: boolean;
  admin: boolean;
  externalId: string | null;
  issuer: string | null;
  email: string | null;
  inviteEmailSent: boolean | null;
  profile: { id: string; reference: string };
}

/** A practitioner unless the input says otherwise. */
export const PRACTITIONER = { resourceType: 'Practitioner', firstName: 'Jo', lastName: 'Doe' };

/** Invites a person into a project over GraphQL (a practitioner named Jo Doe by default). */
export function inviteMember(
  node: GqlNode,
  token: string,
  projectId: string,
  input: Record<string, unknown> = {},
): Promise<InvitedMember> {
  return gqlField(node, token, 'inviteMember', INVITE_MEMBER, {
    projectId,
    input: { ...PRACTITIONER, ...input },
  });
}

export function setMembershipActive(
  node: GqlNode,
  token: string,
  id: string,
  active: boolean,
): Promise<{ id: string; active: boolean }> {
  return gqlField(
    node,
    token,
    'setMembershipActive',
    'mutation($id: ID!, $active: Boolean!) { setMembershipActive(id: $id, active: $active) { id active } }',
    { id, active },
  );
}

// ── actors ────────────────────────────────────────────────────────────────────────────────────────

export interface ActorState {
  id: string;
  status: 'ACTIVE' | 'DISABLED';
  roles: string[];
}

const ACTOR_STATE = 'id status roles';

/** `disableActor` or `enableActor`: the same shape, one field name apart. */
const actorSwitch =
  (field: 'disableActor' | 'enableActor') =>
  (node: GqlNode, token: string, id: string): Promise<ActorState> =>
    gqlField(node, token, field, `mutation($id: ID!) { ${field}(id: $id) { ${ACTOR_STATE} } }`, {
      id,
    });

export const disableActor = actorSwitch('disableActor');
export const enableActor = actorSwitch('enableActor');

export function setActorRoles(
  node: GqlNode,
  token: string,
  id: string,
  roles: string[],
): Promise<ActorState> {
  return gqlField(
    node,
    token,
    'setActorRoles',
    `mutation($id: ID!, $roles: [String!]!) { setActorRoles(id: $id, roles: $roles) { ${ACTOR_STATE} } }`,
    { id, roles },
  );
}

/** The actor id of a token's caller (`me.id`). */
export async function actorIdOf(node: GqlNode, token: string): Promise<string> {
  return (await gqlField<{ id: string }>(node, token, 'me', '{ me { id } }')).id;
}

// ── clients ───────────────────────────────────────────────────────────────────────────────────────

export const CLIENT_FIELDS =
  'id clientId actorId name status scopes grantTypes exchangeIssuers projectId tokenEndpointAuthMethod jwks';

export const CREATE_CLIENT = `mutation($input: CreateClientInput!) {
  createClient(input: $input) { client { ${CLIENT_FIELDS} } clientSecret }
}`;

export interface ClientView {
  id: string;
  clientId: string;
  actorId: string;
  name: string;
  status: 'ACTIVE' | 'DISABLED';
  scopes: string[];
  grantTypes: string[];
  exchangeIssuers: string[];
  projectId: string | null;
  tokenEndpointAuthMethod: string;
  jwks: string | null;
}

export interface CreatedClient {
  client: ClientView;
  /** Null for a PRIVATE_KEY_JWT client. */
  clientSecret: string | null;
}

/** A machine client (client credentials, scope `api`) unless the input says otherwise. */
export const MACHINE_CLIENT = { name: 'svc', grantTypes: ['CLIENT_CREDENTIALS'], scopes: ['api'] };

/** The `input` variable of {@link CREATE_CLIENT}: a machine client with the given fields changed. */
export const clientInput = (input: Record<string, unknown> = {}) => ({
  input: { ...MACHINE_CLIENT, ...input },
});

export function createClient(
  node: GqlNode,
  token: string,
  input: Record<string, unknown> = {},
): Promise<CreatedClient> {
  return gqlField(node, token, 'createClient', CREATE_CLIENT, clientInput(input));
}

export function disableClient(node: GqlNode, token: string, id: string): Promise<ClientView> {
  return gqlField(
    node,
    token,
    'disableClient',
    `mutation($id: ID!) { disableClient(id: $id) { ${CLIENT_FIELDS} } }`,
    { id },
  );
}

export async function rotateClientSecret(
  node: GqlNode,
  token: string,
  id: string,
): Promise<string> {
  const rotated = await gqlField<{ clientSecret: string }>(
    node,
    token,
    'rotateClientSecret',
    'mutation($id: ID!) { rotateClientSecret(id: $id) { clientSecret } }',
    { id },
  );
  return rotated.clientSecret;
}

// ── trusted issuers ───────────────────────────────────────────────────────────────────────────────

export const TRUSTED_ISSUER_FIELDS =
  'name issuer jwksUrl userinfoUrl audiences algorithms opaque provisioning source editable';

export const CREATE_TRUSTED_ISSUER = `mutation($input: CreateTrustedIssuerInput!) {
  createTrustedIssuer(input: $input) { ${TRUSTED_ISSUER_FIELDS} }
}`;

export interface TrustedIssuerView {
  name: string;
  issuer: string;
  jwksUrl: string | null;
  userinfoUrl: string | null;
  audiences: string[];
  algorithms: string[];
  opaque: boolean;
  provisioning: string;
  source: string;
  editable: boolean;
}

/** Trusts an issuer at runtime (`name`, `issuer` and `jwksUrl` or `userinfoUrl` at least). */
export function createTrustedIssuer(
  node: GqlNode,
  token: string,
  input: Record<string, unknown> & { name: string; issuer: string },
): Promise<TrustedIssuerView> {
  return gqlField(node, token, 'createTrustedIssuer', CREATE_TRUSTED_ISSUER, { input });
}
