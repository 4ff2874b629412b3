import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { gql, onRetry, type FormErrors } from '../api/client';
import {
  ClientFormChoices,
  Clients,
  CreateClient,
  DisableClient,
  EnableClient,
  RotateClientSecret,
  SetClientJwks,
  UpdateClient,
  type ClientFieldsFragment,
  type GrantType,
  type SubjectResolution,
  type TokenEndpointAuthMethod,
} from '../api/generated';
import { ConfirmDialog } from '../components/confirm';
import { Check, Field, FormError, Notice } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { when } from '../format';
import { Link, navigate, useTitle } from '../router';
import { useQuery } from '../components/use-query';
import { CopyValue, fieldErrors, linesOf, listOf, SecretOnce, Select, TextArea } from './page-kit';

type Client = ClientFieldsFragment;

/** Every client, page after page (the detail pages find theirs here: there is no client(id) query). */
async function allClients(): Promise<Client[]> {
  const out: Client[] = [];
  let after: string | undefined;
  for (let i = 0; i < 100; i++) {
    // 40 a page: the API's query complexity limit (1000) counts every field of every client.
    const page = (await gql(Clients, { first: 40, after })).clients;
    out.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) break;
    after = page.pageInfo.endCursor;
  }
  return out;
}

/** Like useQuery, over every page of clients: data kept during a reload, the banner's Retry heard. */
function useClients() {
  const [state, setState] = useState<{
    data?: Client[];
    error?: unknown;
    n: number;
    busy: boolean;
  }>({ n: 0, busy: true });
  useEffect(() => {
    let live = true;
    allClients().then(
      (data) => live && setState((s) => ({ ...s, data, error: undefined, busy: false })),
      (error: unknown) => live && setState((s) => ({ ...s, error, busy: false })),
    );
    return () => {
      live = false;
    };
  }, [state.n]);
  const reload = useCallback(() => setState((s) => ({ ...s, n: s.n + 1, busy: true })), []);
  useEffect(() => onRetry(reload), [reload]);
  return { data: state.data, error: state.error, loading: state.busy, reload };
}

/**
 * OAuth clients (ADMIN): `/clients` the list, `/clients/new`, `/clients/<id>`. A new or rotated secret
 * lives only in this page's state: shown once, gone when dismissed or when the page is left.
 */
export function ClientsPage({ subPath }: { subPath: string }) {
  const id = decodeURIComponent(subPath.replace(/^\//, ''));
  const q = useClients();
  const [secret, setSecret] = useState<{ clientId: string; value: string; title: string }>();
  // Leaving the client the secret belongs to drops it.
  useEffect(() => {
    if (secret && secret.clientId !== id) setSecret(undefined);
  }, [id, secret]);

  const content = () => {
    if (!q.data) return q.error === undefined ? <Loading what="clients" /> : null;
    if (!id) return <ClientList clients={q.data} />;
    if (id === 'new')
      return (
        <ClientForm
          onCreated={(c, value) => {
            q.reload();
            navigate(`/clients/${c.id}`);
            if (value) setSecret({ clientId: c.id, value, title: `The secret of ${c.name}` });
          }}
        />
      );
    const client = q.data.find((c) => c.id === id);
    if (!client)
      return q.loading ? (
        <Loading what="the client" />
      ) : (
        <Empty>No client has the id “{id}”.</Empty>
      );
    return (
      <ClientView
        client={client}
        reload={q.reload}
        onSecret={(value) =>
          setSecret({ clientId: client.id, value, title: `The new secret of ${client.name}` })
        }
      >
        {secret && secret.clientId === client.id && (
          <SecretOnce
            title={secret.title}
            secret={secret.value}
            onDone={() => setSecret(undefined)}
          />
        )}
      </ClientView>
    );
  };
  return (
    <section aria-labelledby="page-title">
      {id ? (
        <p>
          <Link to="/clients">← All clients</Link>
        </p>
      ) : (
        <div className="page-head">
          <h1 id="page-title">Clients</h1>
          <Link to="/clients/new" className="button primary">
            Register a client
          </Link>
        </div>
      )}
      {q.error !== undefined && <ErrorState error={q.error} retry={q.reload} />}
      {content()}
    </section>
  );
}

const METHOD_LABEL: Record<TokenEndpointAuthMethod, string> = {
  CLIENT_SECRET_BASIC: 'secret (Basic)',
  CLIENT_SECRET_POST: 'secret (form)',
  PRIVATE_KEY_JWT: 'private key JWT',
  NONE: 'public (PKCE)',
};

function StatusPill({ client }: { client: Client }) {
  return client.status === 'ACTIVE' ? (
    <span className="pill pill-ok">active</span>
  ) : (
    <span className="pill pill-bad">disabled</span>
  );
}

function ClientList({ clients }: { clients: Client[] }) {
  useTitle('Clients');
  if (clients.length === 0) return <Empty>No client yet: register the first one.</Empty>;
  return (
    <div className="table-wrap">
      <table className="table table-stack">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">client_id</th>
            <th scope="col">Authentication</th>
            <th scope="col">Grants</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {clients.map((c) => (
            <tr key={c.id}>
              <td data-label="Name">
                <Link to={`/clients/${c.id}`}>{c.name}</Link>
                {c.builtIn && <span className="pill pill-muted"> built in · read-only</span>}
              </td>
              <td data-label="client_id" className="mono">
                {c.clientId}
              </td>
              <td data-label="Authentication">{METHOD_LABEL[c.tokenEndpointAuthMethod]}</td>
              <td data-label="Grants" className="small">
                {c.grantTypes.map(grantLabel).join(', ')}
              </td>
              <td data-label="Status">
                <StatusPill client={c} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const GRANTS: { value: GrantType; label: string }[] = [
  { value: 'AUTHORIZATION_CODE', label: 'Authorization code (people sign in)' },
  { value: 'REFRESH_TOKEN', label: 'Refresh token' },
  { value: 'CLIENT_CREDENTIALS', label: 'Client credentials (machine to machine)' },
  { value: 'TOKEN_EXCHANGE', label: 'Token exchange' },
];

function grantLabel(g: GrantType): string {
  return g.toLowerCase().replace(/_/g, ' ');
}

const RESOLUTIONS: { value: SubjectResolution; label: string }[] = [
  { value: 'MEMBERSHIP', label: 'By membership (fhirUser, then externalId)' },
  { value: 'EMAIL', label: 'By verified email' },
  { value: 'SUBJECT', label: 'By issuer and subject' },
];

const METHODS: { value: TokenEndpointAuthMethod; label: string }[] = [
  { value: 'CLIENT_SECRET_BASIC', label: 'Client secret (HTTP Basic or form)' },
  { value: 'PRIVATE_KEY_JWT', label: 'Private key JWT (its public keys, no secret)' },
  { value: 'NONE', label: 'None: a public client (browser or native app, PKCE)' },
];

const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/;
const ROLE = /^[A-Z][A-Z0-9_]{0,63}$/;
const ISSUER_NAME = /^[a-z0-9]{1,64}$/;
const CLIENT_FIELDS = [
  'name',
  'grantTypes',
  'scopes',
  'redirectUris',
  'postLogoutRedirectUris',
  'exchangeIssuers',
  'subjectResolution',
  'tokenEndpointAuthMethod',
  'jwks',
  'projectId',
  'roles',
] as const;

/** A redirect URI as the API takes it: https, http on loopback, or a reversed-domain scheme. */
function redirectProblem(uri: string): string | undefined {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return `${uri}: not an absolute URL`;
  }
  if (u.hash) return `${uri}: no fragment (#) allowed`;
  if (u.protocol === 'http:' && !['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname))
    return `${uri}: http only on loopback; use https`;
  if (
    u.protocol !== 'https:' &&
    u.protocol !== 'http:' &&
    !/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(u.protocol)
  )
    return `${uri}: https, loopback http, or a reversed-domain scheme (com.example.app:)`;
  return undefined;
}

interface ClientSettings {
  name: string;
  grantTypes: GrantType[];
  scopes: string[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  exchangeIssuers: string[];
  subjectResolution: SubjectResolution;
}

/** Reads and checks the settings shared by create and edit; problems go into `fields`. */
function readSettings(d: FormData, fields: Record<string, string>): ClientSettings {
  const text = (k: string) => String(d.get(k) ?? '').trim();
  const name = text('name');
  if (!name || name.length > 200) fields.name = 'A name of 1 to 200 characters is required.';
  const grantTypes = d.getAll('grantTypes').map(String) as GrantType[];
  if (grantTypes.length === 0) fields.grantTypes = 'Choose at least one grant.';
  const scopes = listOf(text('scopes'));
  if (scopes.length === 0) fields.scopes = 'List at least one scope.';
  else if (scopes.some((s) => !SCOPE.test(s)) || scopes.length > 50)
    fields.scopes = 'Scopes are single words (no spaces, quotes or backslashes), at most 50.';
  if (grantTypes.includes('REFRESH_TOKEN') && !scopes.includes('offline_access'))
    fields.scopes = 'Refresh tokens are only issued with offline_access: add it to the scopes.';
  const redirectUris = linesOf(text('redirectUris'));
  const postLogoutRedirectUris = linesOf(text('postLogoutRedirectUris'));
  if (grantTypes.includes('AUTHORIZATION_CODE') && redirectUris.length === 0)
    fields.redirectUris = 'An authorization code client needs at least one redirect URI.';
  if (!grantTypes.includes('AUTHORIZATION_CODE') && redirectUris.length > 0)
    fields.redirectUris = 'Only authorization code clients have redirect URIs.';
  const bad = redirectUris.map(redirectProblem).find(Boolean);
  if (bad) fields.redirectUris = bad;
  const badLogout = postLogoutRedirectUris.map(redirectProblem).find(Boolean);
  if (badLogout) fields.postLogoutRedirectUris = badLogout;
  const exchangeIssuers = listOf(text('exchangeIssuers'));
  if (exchangeIssuers.some((i) => !ISSUER_NAME.test(i)))
    fields.exchangeIssuers = 'Trusted issuer names: lower-case letters and digits.';
  if (grantTypes.includes('TOKEN_EXCHANGE') && exchangeIssuers.length === 0)
    fields.exchangeIssuers = 'Token exchange needs the issuers whose tokens it may exchange.';
  return {
    name,
    grantTypes,
    scopes,
    redirectUris,
    postLogoutRedirectUris,
    exchangeIssuers,
    subjectResolution: (text('subjectResolution') || 'MEMBERSHIP') as SubjectResolution,
  };
}

function SettingsFields({ client, f }: { client?: Client; f: Record<string, string> }) {
  return (
    <>
      <Field
        label="Name"
        name="name"
        required
        maxLength={200}
        autoComplete="off"
        defaultValue={client?.name}
        error={f.name}
      />
      <fieldset aria-describedby={f.grantTypes ? 'grants-error' : undefined}>
        <legend>Grants</legend>
        {GRANTS.map((g) => (
          <Check
            key={g.value}
            label={g.label}
            name="grantTypes"
            value={g.value}
            defaultChecked={
              client?.grantTypes.includes(g.value) ?? g.value === 'CLIENT_CREDENTIALS'
            }
          />
        ))}
        {f.grantTypes && (
          <p className="field-error" id="grants-error">
            {f.grantTypes}
          </p>
        )}
      </fieldset>
      <Field
        label="Scopes"
        name="scopes"
        autoComplete="off"
        defaultValue={client?.scopes.join(' ') ?? 'api'}
        hint="Separated by spaces, e.g. openid profile email offline_access api."
        error={f.scopes}
      />
      <TextArea
        label="Redirect URIs"
        name="redirectUris"
        defaultValue={client?.redirectUris.join('\n')}
        hint="One per line, matched exactly: https, http only on loopback, or com.example.app:/callback."
        error={f.redirectUris}
      />
      <TextArea
        label="Post-logout redirect URIs"
        name="postLogoutRedirectUris"
        defaultValue={client?.postLogoutRedirectUris.join('\n')}
        hint="One per line: where sign-out may send the browser back."
        error={f.postLogoutRedirectUris}
      />
      <Field
        label="Exchange issuers"
        name="exchangeIssuers"
        autoComplete="off"
        defaultValue={client?.exchangeIssuers.join(', ')}
        hint="Token exchange: the trusted issuers whose tokens it may exchange, separated by commas."
        error={f.exchangeIssuers}
      />
      <Select
        label="Exchange: find the actor"
        name="subjectResolution"
        defaultValue={client?.subjectResolution ?? 'MEMBERSHIP'}
        options={RESOLUTIONS}
        error={f.subjectResolution}
      />
    </>
  );
}

function ClientForm({ onCreated }: { onCreated: (c: Client, secret: string | null) => void }) {
  useTitle('Register a client');
  const choices = useQuery(ClientFormChoices);
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [busy, setBusy] = useState(false);
  const [method, setMethod] = useState<TokenEndpointAuthMethod>('CLIENT_SECRET_BASIC');

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const d = new FormData(e.currentTarget);
    const text = (k: string) => String(d.get(k) ?? '').trim();
    const fields: Record<string, string> = {};
    const settings = readSettings(d, fields);
    const roles = listOf(text('roles'));
    if (roles.some((r) => !ROLE.test(r)))
      fields.roles = 'Upper-case names (A-Z, 0-9, _), e.g. ADMIN.';
    const jwks = text('jwks');
    if (method === 'PRIVATE_KEY_JWT') {
      if (!jwks) fields.jwks = 'A private key JWT client must register its public keys.';
      else {
        try {
          JSON.parse(jwks);
        } catch {
          fields.jwks = 'Must be a JSON Web Key Set: {"keys": [...]}.';
        }
      }
    }
    if (
      method === 'NONE' &&
      settings.grantTypes.some((g) => g !== 'AUTHORIZATION_CODE' && g !== 'REFRESH_TOKEN')
    )
      fields.grantTypes = 'A public client may only use authorization code and refresh token.';
    setErrors({ fields });
    if (Object.keys(fields).length > 0) return;
    setBusy(true);
    try {
      const res = (
        await gql(CreateClient, {
          input: {
            ...settings,
            tokenEndpointAuthMethod: method,
            roles: roles.length > 0 ? roles : undefined,
            projectId: text('projectId') || undefined,
            jwks: method === 'PRIVATE_KEY_JWT' ? jwks : undefined,
          },
        })
      ).createClient;
      onCreated(res.client, res.clientSecret ?? null);
    } catch (err) {
      setErrors(fieldErrors(err, CLIENT_FIELDS));
    } finally {
      setBusy(false);
    }
  };
  const f = errors.fields;
  return (
    <>
      <h1 id="page-title">Register a client</h1>
      <form onSubmit={(e) => void submit(e)} noValidate className="wide-form">
        <Select
          label="Authentication"
          name="tokenEndpointAuthMethod"
          defaultValue={method}
          options={METHODS}
          onChange={(v) => setMethod(v as TokenEndpointAuthMethod)}
          error={f.tokenEndpointAuthMethod}
        />
        <SettingsFields f={f} />
        {method === 'PRIVATE_KEY_JWT' && (
          <TextArea
            label="Public keys (JWKS)"
            name="jwks"
            rows={6}
            hint="A JSON Web Key Set of public keys, each with a kid (at most 10 keys, 16 KiB)."
            error={f.jwks}
          />
        )}
        <Select
          label="Project"
          name="projectId"
          defaultValue=""
          options={[
            { value: '', label: 'Any project' },
            ...(choices.data?.projects.map((p) => ({ value: p.id, label: p.name })) ?? []),
          ]}
          hint="Limit the client to one project (cannot change later)."
          error={f.projectId}
        />
        <Field
          label="Roles of the client’s principal"
          name="roles"
          autoComplete="off"
          hint="Upper-case, separated by commas. ADMIN lets it act on behalf of members."
          error={f.roles}
        />
        <FormError message={errors.form} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Registering…' : 'Register the client'}
          </button>
        </div>
      </form>
    </>
  );
}

function ClientView({
  client,
  reload,
  onSecret,
  children,
}: {
  client: Client;
  reload: () => void;
  onSecret: (secret: string) => void;
  children?: ReactNode;
}) {
  useTitle(client.name);
  const [confirm, setConfirm] = useState<'rotate' | 'disable'>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const hasSecret =
    client.tokenEndpointAuthMethod === 'CLIENT_SECRET_BASIC' ||
    client.tokenEndpointAuthMethod === 'CLIENT_SECRET_POST';

  const enable = async () => {
    setError(undefined);
    try {
      await gql(EnableClient, { id: client.id });
      setNotice(`${client.name} may authenticate again; its earlier tokens stay revoked.`);
      reload();
    } catch (err) {
      setError(fieldErrors(err, []).form);
    }
  };

  return (
    <>
      <h1 id="page-title">
        {client.name} <StatusPill client={client} />
      </h1>
      {children}
      {notice && <Notice>{notice}</Notice>}
      <FormError message={error} />
      <div className="facts-wide">
        <CopyValue label="client_id" value={client.clientId} />
        <dl className="facts">
          <dt>Authentication</dt>
          <dd>{METHOD_LABEL[client.tokenEndpointAuthMethod]}</dd>
          <dt>Grants</dt>
          <dd>{client.grantTypes.map(grantLabel).join(', ')}</dd>
          <dt>Scopes</dt>
          <dd>{client.scopes.join(' ')}</dd>
          <dt>Created</dt>
          <dd>{when(client.createdAt)}</dd>
          {hasSecret && (
            <>
              <dt>Secret set</dt>
              <dd>{when(client.secretRotatedAt)}</dd>
            </>
          )}
        </dl>
      </div>
      {client.builtIn ? (
        <p className="notice">
          This client is built in (the admin console’s or the command line’s): Bridgekeeper
          registers it at every start, and refuses every change to it.
        </p>
      ) : (
        <>
          <div className="actions">
            {hasSecret && (
              <button type="button" onClick={() => setConfirm('rotate')}>
                Rotate the secret
              </button>
            )}
            {client.status === 'ACTIVE' ? (
              <button type="button" className="danger" onClick={() => setConfirm('disable')}>
                Disable
              </button>
            ) : (
              <button type="button" onClick={() => void enable()}>
                Enable
              </button>
            )}
          </div>
          <EditClient client={client} reload={reload} />
          {client.tokenEndpointAuthMethod === 'PRIVATE_KEY_JWT' && (
            <JwksForm client={client} reload={reload} />
          )}
        </>
      )}
      {client.builtIn && <ReadOnlySettings client={client} />}
      {confirm && (
        <ConfirmDialog
          title={
            confirm === 'rotate'
              ? `Rotate the secret of ${client.name}?`
              : `Disable ${client.name}?`
          }
          confirmLabel={confirm === 'rotate' ? 'Rotate the secret' : `Disable ${client.name}`}
          destructive
          onClose={() => setConfirm(undefined)}
          onConfirm={async () => {
            setError(undefined);
            setNotice(undefined);
            try {
              if (confirm === 'rotate') {
                const res = (await gql(RotateClientSecret, { id: client.id })).rotateClientSecret;
                if (res.clientSecret) onSecret(res.clientSecret);
              } else {
                await gql(DisableClient, { id: client.id });
                setNotice(`${client.name} is disabled: every token issued to it is revoked.`);
              }
              reload();
            } catch (err) {
              setError(fieldErrors(err, []).form);
            }
          }}
        >
          <p>
            {confirm === 'rotate'
              ? 'The current secret stops working at once, on every node. The new one is shown once.'
              : 'It can no longer authenticate, and every token issued to it is revoked on every node. Enabling it later does not bring those tokens back.'}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function ReadOnlySettings({ client }: { client: Client }) {
  return (
    <dl className="facts facts-wide">
      <dt>Redirect URIs</dt>
      <dd className="mono">{client.redirectUris.join(' ') || '—'}</dd>
      <dt>Post-logout URIs</dt>
      <dd className="mono">{client.postLogoutRedirectUris.join(' ') || '—'}</dd>
    </dl>
  );
}

function EditClient({ client, reload }: { client: Client; reload: () => void }) {
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setSaved(false);
    const fields: Record<string, string> = {};
    const settings = readSettings(new FormData(e.currentTarget), fields);
    setErrors({ fields });
    if (Object.keys(fields).length > 0) return;
    setBusy(true);
    try {
      await gql(UpdateClient, { id: client.id, input: settings });
      setSaved(true);
      reload();
    } catch (err) {
      setErrors(fieldErrors(err, CLIENT_FIELDS));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="wide-form">
      <h2>Settings</h2>
      <SettingsFields client={client} f={errors.fields} />
      <FormError message={errors.form} />
      {saved && <Notice>Saved: every node uses the new settings now.</Notice>}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save changes'}
        </button>
      </div>
    </form>
  );
}

function JwksForm({ client, reload }: { client: Client; reload: () => void }) {
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setSaved(false);
    const jwks = String(new FormData(e.currentTarget).get('jwks') ?? '').trim();
    try {
      JSON.parse(jwks);
    } catch {
      setError('Must be a JSON Web Key Set: {"keys": [...]}.');
      return;
    }
    setError(undefined);
    try {
      await gql(SetClientJwks, { id: client.id, jwks });
      setSaved(true);
      reload();
    } catch (err) {
      const split = fieldErrors(err, ['jwks']);
      setError(split.fields.jwks ?? split.form);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="wide-form">
      <h2>Public keys (JWKS)</h2>
      <TextArea
        label="JSON Web Key Set"
        name="jwks"
        rows={8}
        defaultValue={client.jwks ?? ''}
        hint="Replaces the keys at once: assertions signed by a removed key fail."
        error={error}
      />
      {saved && <Notice>Keys replaced.</Notice>}
      <div className="actions">
        <button type="submit" className="primary">
          Replace the keys
        </button>
      </div>
    </form>
  );
}
