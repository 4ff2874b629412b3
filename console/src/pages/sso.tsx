import { useState, type FormEvent } from 'react';
import { gql, type FormErrors } from '../api/client';
import {
  CreateSsoProvider,
  DeleteSsoProvider,
  SsoProviders,
  UpdateSsoProvider,
  type SsoFieldsFragment,
} from '../api/generated';
import { ConfirmDialog } from '../components/confirm';
import { Check, Field, FormError, Notice } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { useQuery } from '../components/use-query';
import { Link, navigate, useTitle } from '../router';
import { CopyValue, fieldErrors, isHttpUrl, listOf } from './page-kit';

type Provider = SsoFieldsFragment;

/**
 * Single sign-on (ADMIN): `/sso` the providers, `/sso/new`, `/sso/<id>` (TagoIO's settings form). The
 * configuration file's provider is shown read-only. The client secret is write-only: never shown, and
 * its box is emptied once saved.
 */
export function SsoPage({ subPath }: { subPath: string }) {
  const id = decodeURIComponent(subPath.replace(/^\//, ''));
  const q = useQuery(SsoProviders);
  const issuers = q.data?.trustedIssuers ?? [];
  const content = () => {
    if (!q.data) return q.error === undefined ? <Loading what="single sign-on providers" /> : null;
    if (!id) return <ProviderList providers={q.data.ssoProviders} />;
    if (id === 'new') return <ProviderForm issuers={issuers} onSaved={q.reload} />;
    const provider = q.data.ssoProviders.find((p) => p.id === id);
    if (!provider) return <Empty>No single sign-on provider has the id “{id}”.</Empty>;
    return provider.readOnly ? (
      <ConfigProvider provider={provider} />
    ) : (
      <ProviderForm key={provider.id} provider={provider} issuers={issuers} onSaved={q.reload} />
    );
  };
  return (
    <section aria-labelledby="page-title">
      {id ? (
        <p>
          <Link to="/sso">← All providers</Link>
        </p>
      ) : (
        <div className="page-head">
          <h1 id="page-title">Single sign-on</h1>
          <Link to="/sso/new" className="button primary">
            Add a provider
          </Link>
        </div>
      )}
      {q.error !== undefined && <ErrorState error={q.error} retry={q.reload} />}
      {content()}
    </section>
  );
}

function EnabledPill({ p }: { p: Provider }) {
  return p.enabled ? (
    <span className="pill pill-ok">enabled</span>
  ) : (
    <span className="pill pill-muted">disabled</span>
  );
}

function ProviderList({ providers }: { providers: Provider[] }) {
  useTitle('Single sign-on');
  if (providers.length === 0)
    return (
      <Empty>
        No provider yet: people sign in with a password only. Add your identity provider (it must be
        a trusted issuer first) to show a “Continue with …” button on the login page.
      </Empty>
    );
  return (
    <ul className="cards">
      {providers.map((p) => (
        <li key={p.id} className={`card ${p.enabled ? 'health-ok' : 'health-wait'}`}>
          <h2 className="card-title">
            <Link to={`/sso/${encodeURIComponent(p.id)}`}>{p.displayName}</Link>
          </h2>
          <p className="small mono">{p.authority}</p>
          <p>
            <EnabledPill p={p} />{' '}
            {p.readOnly && <span className="pill pill-muted">configuration · read-only</span>}
          </p>
          <p className="small">
            /login/sso/{p.name} · client {p.clientId}
            {p.hasClientSecret ? ' · with a secret' : ' · public (PKCE)'}
          </p>
        </li>
      ))}
    </ul>
  );
}

function Urls({ p }: { p: Provider }) {
  return (
    <div className="facts-wide">
      <p className="small">Register these at the provider:</p>
      <CopyValue label="Callback URL (redirect URI)" value={p.callbackUrl} />
      <CopyValue label="Logout redirect URL" value={p.logoutRedirectUrl} />
    </div>
  );
}

function ConfigProvider({ provider: p }: { provider: Provider }) {
  useTitle(p.displayName);
  const m = p.claimMappings;
  return (
    <>
      <h1 id="page-title">
        {p.displayName} <span className="pill pill-muted">configuration · read-only</span>
      </h1>
      <p className="notice">
        This provider is defined in the configuration file (bridgekeeper.auth.ui.oidc.*): change it
        there and restart.
      </p>
      <Urls p={p} />
      <dl className="facts facts-wide">
        {(
          [
            ['Name', p.name],
            ['Issuer URL', p.authority],
            ['Client ID', p.clientId],
            ['Client secret', p.hasClientSecret ? 'set (never shown)' : 'none: public client'],
            ['Scopes', p.scopes.join(' ')],
            ['Email claim', m.email],
            ['First name claim', m.firstName],
            ['Last name claim', m.lastName ?? '—'],
            ['Custom claims', m.custom.map((c) => `${c.claim} → ${c.attribute}`).join(', ') || '—'],
            ['Forwarded parameters', p.forwardedParameters.join(', ') || '—'],
            ['Enabled', p.enabled ? 'yes' : 'no'],
          ] as const
        ).map(([k, v]) => (
          <div className="fact" key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}

const SSO_NAME = /^[a-z0-9-]{1,40}$/;
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
const CLAIM = /^[A-Za-z0-9_.:-]{1,128}$/;
const PROTOCOL_PARAMS = new Set([
  'state',
  'nonce',
  'redirect_uri',
  'client_id',
  'response_type',
  'code_challenge',
  'code_challenge_method',
  'scope',
  'response_mode',
  'request',
  'request_uri',
]);
const SSO_FIELDS = [
  'name',
  'displayName',
  'authority',
  'clientId',
  'clientSecret',
  'scopes',
  'claimMappings',
  'email',
  'firstName',
  'lastName',
  'custom',
  'forwardedParameters',
  'enabled',
] as const;

interface Row {
  key: number;
  claim: string;
  attribute: string;
}

function ProviderForm({
  provider,
  issuers,
  onSaved,
}: {
  provider?: Provider;
  issuers: { name: string; issuer: string }[];
  onSaved: () => void;
}) {
  useTitle(provider ? provider.displayName : 'Add a provider');
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [enabled, setEnabled] = useState(provider?.enabled ?? true);
  const [rows, setRows] = useState<Row[]>(
    (provider?.claimMappings.custom ?? []).map((c, i) => ({ key: i, ...c })),
  );
  const [nextKey, setNextKey] = useState(rows.length);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setSaved(false);
    const form = e.currentTarget;
    const d = new FormData(form);
    const text = (k: string) => String(d.get(k) ?? '').trim();
    const fields: Record<string, string> = {};
    const name = text('name');
    if (!SSO_NAME.test(name))
      fields.name = 'Lower-case letters, digits and -, at most 40 characters (it is in the URLs).';
    const displayName = text('displayName') || name;
    if (displayName.length > 80) fields.displayName = 'At most 80 characters.';
    const authority = text('authority');
    if (!isHttpUrl(authority)) fields.authority = 'The issuer URL: an absolute https or http URL.';
    else if (issuers.length > 0 && !issuers.some((i) => i.issuer === authority))
      fields.authority =
        'Must be the exact issuer (iss) of one of the trusted issuers: trust the provider first.';
    const clientId = text('clientId');
    if (!clientId || clientId.length > 256) fields.clientId = 'Required (at most 256 characters).';
    const secretBox = form.elements.namedItem('clientSecret') as HTMLInputElement;
    const clientSecret = secretBox.value;
    if (clientSecret.length > 1024) fields.clientSecret = 'At most 1024 characters.';
    const removeSecret = d.get('removeSecret') === 'on';
    const scopes = listOf(text('scopes'));
    if (!scopes.includes('openid')) fields.scopes = 'Must include openid.';
    else if (scopes.length > 30 || scopes.some((s) => !SCOPE.test(s)))
      fields.scopes = 'At most 30 scope names, separated by spaces.';
    const email = text('claimEmail');
    const firstName = text('claimFirstName');
    const lastName = text('claimLastName');
    for (const [k, v, required] of [
      ['email', email, true],
      ['firstName', firstName, true],
      ['lastName', lastName, false],
    ] as const) {
      if ((required || v) && !CLAIM.test(v))
        fields[k] = required
          ? 'The claim name is required.'
          : 'A claim name (letters, digits, _ . : -).';
    }
    const custom = rows
      .map((r) => ({ claim: r.claim.trim(), attribute: r.attribute.trim() }))
      .filter((r) => r.claim || r.attribute);
    if (custom.some((c) => !CLAIM.test(c.claim) || !/^[A-Za-z0-9_.-]{1,64}$/.test(c.attribute)))
      fields.custom =
        'Each custom claim needs a claim name and an attribute name (letters, digits, _ . -).';
    const forwardedParameters = listOf(text('forwardedParameters'));
    const forbidden = forwardedParameters.find((p) => PROTOCOL_PARAMS.has(p));
    if (forbidden)
      fields.forwardedParameters = `${forbidden} is a protocol parameter: it can never be forwarded.`;
    setErrors({ fields });
    if (Object.keys(fields).length > 0) return;

    const input = {
      name,
      displayName,
      authority,
      clientId,
      scopes,
      claimMappings: { email, firstName, lastName: lastName || null, custom },
      forwardedParameters,
      enabled,
    };
    setBusy(true);
    try {
      if (provider) {
        await gql(UpdateSsoProvider, {
          id: provider.id,
          input: {
            ...input,
            // Omitted keeps the stored secret; null removes it.
            ...(removeSecret ? { clientSecret: null } : clientSecret ? { clientSecret } : {}),
          },
        });
        setSaved(true);
      } else {
        const created = (
          await gql(CreateSsoProvider, {
            input: {
              ...input,
              claimMappings: { ...input.claimMappings, lastName: lastName || undefined },
              clientSecret: clientSecret || undefined,
            },
          })
        ).createSsoProvider;
        navigate(`/sso/${encodeURIComponent(created.id)}?created=1`);
      }
      onSaved();
    } catch (err) {
      const split = fieldErrors(err, SSO_FIELDS);
      // claimMappings.email → email
      for (const [k, v] of Object.entries(split.fields)) {
        const short = k.replace(/^claimMappings\./, '');
        if (short !== k) split.fields[short] = v;
      }
      setErrors(split);
    } finally {
      // The secret never stays in the page: the box is emptied whatever the answer.
      secretBox.value = '';
      setBusy(false);
    }
  };

  const created = new URLSearchParams(location.search).has('created');
  const f = errors.fields;
  const m = provider?.claimMappings;
  return (
    <>
      <h1 id="page-title">
        {provider ? provider.displayName : 'Add a provider'}{' '}
        {provider && <EnabledPill p={provider} />}
      </h1>
      {provider && created && (
        <Notice>
          Saved. Register the two URLs below at {provider.displayName}, then people can use
          “Continue with {provider.displayName}” on the login page.
        </Notice>
      )}
      {provider ? (
        <Urls p={provider} />
      ) : (
        <p className="small">
          The callback and logout URLs to register at the provider are shown once it is saved
          (&lt;public URL&gt;/login/sso/&lt;name&gt;/callback and …/logged-out).
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} noValidate className="wide-form">
        <Field
          label="Issuer URL"
          name="authority"
          type="url"
          required
          list="sso-issuers"
          defaultValue={provider?.authority}
          hint="The provider’s issuer (discovery at <issuer>/.well-known/openid-configuration); it must be a trusted issuer."
          error={f.authority}
        />
        <datalist id="sso-issuers">
          {issuers.map((i) => (
            <option key={i.name} value={i.issuer}>
              {i.name}
            </option>
          ))}
        </datalist>
        <Field
          label="Client ID"
          name="clientId"
          required
          autoComplete="off"
          defaultValue={provider?.clientId}
          error={f.clientId}
        />
        <Field
          label="Client secret"
          name="clientSecret"
          type="password"
          autoComplete="new-password"
          hint={
            provider?.hasClientSecret
              ? 'A secret is stored (never shown). Leave empty to keep it; type a new one to replace it.'
              : 'Write-only: stored encrypted, never shown again. Empty: a public client (PKCE alone).'
          }
          error={f.clientSecret}
        />
        {provider?.hasClientSecret && (
          <Check label="Remove the stored secret (public client)" name="removeSecret" />
        )}
        <Field
          label="Scopes"
          name="scopes"
          autoComplete="off"
          defaultValue={provider?.scopes.join(' ') ?? 'openid profile email'}
          error={f.scopes}
        />
        <div className="grid-fields">
          <Field
            label="Name (in URLs)"
            name="name"
            required
            maxLength={40}
            autoComplete="off"
            defaultValue={provider?.name}
            hint={provider ? 'Changing it changes both URLs above.' : 'e.g. corp'}
            error={f.name}
          />
          <Field
            label="Button label"
            name="displayName"
            maxLength={80}
            autoComplete="off"
            defaultValue={provider?.displayName}
            hint="“Continue with …”"
            error={f.displayName}
          />
        </div>
        <fieldset>
          <legend>Claim mappings</legend>
          <div className="grid-fields">
            <Field
              label="Email claim"
              name="claimEmail"
              defaultValue={m?.email ?? 'email'}
              error={f.email}
            />
            <Field
              label="First name claim"
              name="claimFirstName"
              defaultValue={m?.firstName ?? 'given_name'}
              error={f.firstName}
            />
            <Field
              label="Last name claim"
              name="claimLastName"
              defaultValue={m ? (m.lastName ?? '') : 'family_name'}
              hint="Optional."
              error={f.lastName}
            />
          </div>
          <p className="small">
            Custom claims: stored as attributes of the person at each sign-in.
          </p>
          {rows.map((r, i) => (
            <div className="claims-row" key={r.key}>
              <Field
                label={`Claim ${i + 1}`}
                value={r.claim}
                onChange={(e) => {
                  const v = e.currentTarget.value;
                  setRows((rs) => rs.map((x) => (x.key === r.key ? { ...x, claim: v } : x)));
                }}
              />
              <Field
                label={`Attribute ${i + 1}`}
                value={r.attribute}
                onChange={(e) => {
                  const v = e.currentTarget.value;
                  setRows((rs) => rs.map((x) => (x.key === r.key ? { ...x, attribute: v } : x)));
                }}
              />
              <button
                type="button"
                onClick={() => setRows((rs) => rs.filter((x) => x.key !== r.key))}
                aria-label={`Remove custom claim ${i + 1}`}
              >
                Remove
              </button>
            </div>
          ))}
          {f.custom && <p className="field-error">{f.custom}</p>}
          <button
            type="button"
            onClick={() => {
              setRows((rs) => [...rs, { key: nextKey, claim: '', attribute: '' }]);
              setNextKey((k) => k + 1);
            }}
          >
            Add a custom claim
          </button>
        </fieldset>
        <Field
          label="Forwarded parameters"
          name="forwardedParameters"
          autoComplete="off"
          defaultValue={provider?.forwardedParameters.join(', ') ?? 'login_hint'}
          hint="Parameters of the login URL passed on to the provider, e.g. login_hint, invite."
          error={f.forwardedParameters}
        />
        <Check
          label="Enabled: show “Continue with …” on the login page"
          name="enabled"
          checked={enabled}
          onChange={(e) => setEnabled(e.currentTarget.checked)}
          error={f.enabled}
        />
        <FormError message={errors.form} />
        {saved && <Notice>Saved: every node uses the new settings now.</Notice>}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save'}
          </button>
          {provider && (
            <button type="button" className="danger" onClick={() => setDeleting(true)}>
              Delete
            </button>
          )}
        </div>
      </form>
      {provider && deleting && (
        <ConfirmDialog
          title={`Delete the provider ${provider.displayName}?`}
          confirmLabel={`Delete ${provider.displayName}`}
          destructive
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            try {
              await gql(DeleteSsoProvider, { id: provider.id });
              onSaved();
              navigate('/sso');
            } catch (err) {
              setErrors(fieldErrors(err, []));
            }
          }}
        >
          <p>
            Its “Continue with” button disappears at once, on every node. People who signed in
            through it keep their accounts.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
