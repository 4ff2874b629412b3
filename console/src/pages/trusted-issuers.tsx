import { useState, type FormEvent } from 'react';
import { formErrors, gql, type FormErrors } from '../api/client';
import {
  CreateTrustedIssuer,
  DeleteTrustedIssuer,
  ExplainToken,
  TrustedIssuers,
  UpdateTrustedIssuer,
  type ExplainTokenQuery,
  type IssuerFieldsFragment,
  type TrustedIssuerProvisioning,
} from '../api/generated';
import { ConfirmDialog } from '../components/confirm';
import { Facts } from '../components/facts';
import { Check, Field, FormError, Notice, SubmitRow } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { useQuery } from '../components/use-query';
import { ago, when } from '../format';
import { Link, navigate, useTitle } from '../router';

type Issuer = IssuerFieldsFragment;

/** Trusted issuers (ADMIN): `/issuers` the list and "test a token", `/issuers/new`, `/issuers/<name>`. */
export function TrustedIssuersPage({ subPath }: { subPath: string }) {
  const name = decodeURIComponent(subPath.replace(/^\//, ''));
  const q = useQuery(TrustedIssuers);
  const content = () => {
    if (!q.data) return q.error === undefined ? <Loading what="trusted issuers" /> : null;
    if (!name) return <IssuerList issuers={q.data.trustedIssuers} />;
    if (name === 'new') return <IssuerForm onSaved={q.reload} />;
    const issuer = q.data.trustedIssuers.find((i) => i.name === name);
    if (!issuer) return <Empty>No trusted issuer is named “{name}”.</Empty>;
    return issuer.editable ? (
      <IssuerForm issuer={issuer} onSaved={q.reload} />
    ) : (
      <ConfigIssuer issuer={issuer} />
    );
  };
  return (
    <section aria-labelledby="page-title">
      {name && (
        <p>
          <Link to="/issuers">← All trusted issuers</Link>
        </p>
      )}
      {!name && (
        <div className="page-head">
          <h1 id="page-title">Trusted issuers</h1>
          <Link to="/issuers/new" className="button primary">
            Trust an issuer
          </Link>
        </div>
      )}
      {q.error !== undefined && <ErrorState error={q.error} retry={q.reload} />}
      {content()}
    </section>
  );
}

function Health({ issuer }: { issuer: Issuer }) {
  const ks = issuer.keySet;
  if (!ks) return <span className="pill pill-muted">userinfo</span>;
  const tone = ks.state === 'OK' ? 'ok' : ks.state === 'PENDING' ? 'wait' : 'bad';
  const text = { OK: 'healthy', STALE: 'stale keys', FAILING: 'failing', PENDING: 'pending' }[
    ks.state
  ];
  return <span className={`pill pill-${tone}`}>{text}</span>;
}

function IssuerList({ issuers }: { issuers: Issuer[] }) {
  useTitle('Trusted issuers');
  return (
    <>
      {issuers.length === 0 ? (
        <Empty>
          No issuer is trusted yet: tokens of your identity provider are refused until you trust it.
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Issuer (iss)</th>
                <th scope="col">Health</th>
                <th scope="col">Defined in</th>
              </tr>
            </thead>
            <tbody>
              {issuers.map((i) => (
                <tr key={i.name}>
                  <td>
                    <Link to={`/issuers/${encodeURIComponent(i.name)}`}>{i.name}</Link>
                  </td>
                  <td className="mono">{i.issuer}</td>
                  <td>
                    <Health issuer={i} />
                  </td>
                  <td>
                    {i.editable ? (
                      'the console / API'
                    ) : (
                      <span className="pill pill-muted">configuration · read-only</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <TokenTester />
    </>
  );
}

function ConfigIssuer({ issuer }: { issuer: Issuer }) {
  useTitle(issuer.name);
  return (
    <>
      <h1 id="page-title">
        {issuer.name} <span className="pill pill-muted">configuration · read-only</span>
      </h1>
      <p className="notice">
        This issuer is defined in the configuration file (bridgekeeper.auth.jwt.trusted.issuer.
        {issuer.name}.*): change it there and restart.
      </p>
      <IssuerFacts issuer={issuer} />
    </>
  );
}

function IssuerFacts({ issuer }: { issuer: Issuer }) {
  const now = Date.now();
  const rows: [string, string, boolean?][] = [
    ['Issuer (iss)', issuer.issuer, true],
    ['JWKS URL', issuer.jwksUrl ?? '—', true],
    ['Userinfo URL', issuer.userinfoUrl ?? '—', true],
    ['Audiences', issuer.audiences.join(', ') || (issuer.audiencesRequired ? '—' : 'any')],
    ['Algorithms', issuer.algorithms.join(', ')],
    ['Provisioning', issuer.provisioning === 'JIT' ? 'on first token (JIT)' : 'known actors only'],
    ['Clock tolerance', `${issuer.clockToleranceSeconds} s`],
    ['Max token age', issuer.maxTokenAgeSeconds ? `${issuer.maxTokenAgeSeconds} s` : '—'],
    [
      'Key set',
      issuer.keySet
        ? `${issuer.keySet.state}, ${issuer.keySet.keyCount} keys, fetched ${
            issuer.keySet.lastSuccessAt ? ago(issuer.keySet.lastSuccessAt, now) : 'never'
          }${issuer.keySet.lastError ? `; last error: ${issuer.keySet.lastError.message}` : ''}`
        : '—',
    ],
  ];
  return <Facts facts={rows.map(([label, value, mono]) => ({ label, value, mono }))} />;
}

const NAME = /^[a-z0-9]{1,64}$/;
const FIELDS = [
  'name',
  'issuer',
  'jwksUrl',
  'userinfoUrl',
  'audiences',
  'audiencesRequired',
  'algorithms',
  'clockToleranceSeconds',
  'maxTokenAgeSeconds',
  'provisioning',
  'fhirBase',
  'opaque',
  'userinfoCredentials',
  'emailMatching',
] as const;
const ADVANCED = new Set([
  'algorithms',
  'clockToleranceSeconds',
  'maxTokenAgeSeconds',
  'fhirBase',
  'opaque',
  'userinfoCredentials',
  'emailMatching',
]);

function isUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

const list = (v: string): string[] => [
  ...new Set(
    v
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean),
  ),
];

/** Create (no `issuer`) or edit a runtime issuer, checked here first, then with the API's field errors. */
function IssuerForm({ issuer, onSaved }: { issuer?: Issuer; onSaved: () => void }) {
  useTitle(issuer ? `Edit ${issuer.name}` : 'Trust an issuer');
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [advanced, setAdvanced] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setSaved(false);
    const d = new FormData(e.currentTarget);
    const text = (k: string) => String(d.get(k) ?? '').trim();
    const fields: Record<string, string> = {};
    const name = issuer?.name ?? text('name');
    if (!issuer && !NAME.test(name))
      fields.name = 'Lower-case letters and digits only (1 to 64), e.g. corp.';
    if (!text('issuer')) fields.issuer = 'The exact iss value of its tokens is required.';
    else if (!isUrl(text('issuer'))) fields.issuer = 'Must be an absolute https or http URL.';
    for (const k of ['jwksUrl', 'userinfoUrl', 'fhirBase']) {
      if (text(k) && !isUrl(text(k))) fields[k] = 'Must be an absolute https or http URL.';
    }
    if (!text('jwksUrl') && !text('userinfoUrl'))
      fields.jwksUrl = 'Give a JWKS URL, a userinfo URL, or both.';
    const int = (k: string, min: number, max: number): number | null => {
      if (!text(k)) return null;
      const n = Number(text(k));
      if (!Number.isInteger(n) || n < min || n > max)
        fields[k] = `Must be a whole number from ${min} to ${max}.`;
      return n;
    };
    const clock = int('clockToleranceSeconds', 0, 600);
    const maxAge = int('maxTokenAgeSeconds', 1, 31_536_000);
    const audiences = list(text('audiences'));
    const audiencesRequired = d.get('audiencesRequired') === 'on';
    if (audiencesRequired && audiences.length === 0)
      fields.audiences = 'List the audiences to accept, or untick “Require an audience”.';
    setErrors({ fields });
    if ([...ADVANCED].some((k) => fields[k])) setAdvanced(true);
    if (Object.keys(fields).length > 0) return;

    const common = {
      issuer: text('issuer'),
      jwksUrl: text('jwksUrl') || null,
      userinfoUrl: text('userinfoUrl') || null,
      audiences,
      audiencesRequired,
      algorithms: list(text('algorithms')).length > 0 ? list(text('algorithms')) : null,
      clockToleranceSeconds: clock,
      maxTokenAgeSeconds: maxAge,
      provisioning: text('provisioning') as TrustedIssuerProvisioning,
      fhirBase: text('fhirBase') || null,
      opaque: d.get('opaque') === 'on',
      userinfoCredentials: d.get('userinfoCredentials') === 'on',
      emailMatching: d.get('emailMatching') === 'on',
      skipReachabilityCheck: d.get('skipReachabilityCheck') === 'on',
    };
    setBusy(true);
    try {
      if (issuer) {
        await gql(UpdateTrustedIssuer, { name: issuer.name, input: common });
        setSaved(true);
      } else {
        await gql(CreateTrustedIssuer, {
          input: {
            ...common,
            name,
            // Create: omitted means the default.
            algorithms: common.algorithms ?? undefined,
            clockToleranceSeconds: clock ?? undefined,
            maxTokenAgeSeconds: maxAge ?? undefined,
            jwksUrl: common.jwksUrl ?? undefined,
            userinfoUrl: common.userinfoUrl ?? undefined,
            fhirBase: common.fhirBase ?? undefined,
          },
        });
        navigate(`/issuers/${encodeURIComponent(name)}?created=1`);
      }
      onSaved();
    } catch (err) {
      const split = formErrors(err, FIELDS);
      setErrors(split);
      if ([...ADVANCED].some((k) => split.fields[k])) setAdvanced(true);
    } finally {
      setBusy(false);
    }
  };

  const created = new URLSearchParams(location.search).has('created');
  const f = errors.fields;
  return (
    <>
      <h1 id="page-title">{issuer ? issuer.name : 'Trust an issuer'}</h1>
      {issuer && created && (
        <Notice>
          {issuer.name} is trusted on every node: its tokens are accepted from now on.
        </Notice>
      )}
      {issuer && <IssuerFacts issuer={issuer} />}
      <form onSubmit={(e) => void submit(e)} noValidate className="wide-form">
        {issuer && <h2>Edit</h2>}
        {!issuer && (
          <Field
            label="Name"
            name="name"
            required
            maxLength={64}
            autoComplete="off"
            hint="Lower-case letters and digits; part of every actor identity; cannot change later."
            error={f.name}
          />
        )}
        <Field
          label="Issuer (iss)"
          name="issuer"
          required
          type="url"
          defaultValue={issuer?.issuer}
          hint="The exact iss value of its tokens, compared byte for byte."
          error={f.issuer}
        />
        <Field
          label="JWKS URL"
          name="jwksUrl"
          type="url"
          defaultValue={issuer?.jwksUrl ?? ''}
          hint="Its tokens are verified with these keys."
          error={f.jwksUrl}
        />
        <Field
          label="Userinfo URL"
          name="userinfoUrl"
          type="url"
          defaultValue={issuer?.userinfoUrl ?? ''}
          hint="Optional: tokens are also checked by calling it (needed for opaque tokens)."
          error={f.userinfoUrl}
        />
        <Field
          label="Audiences"
          name="audiences"
          defaultValue={issuer?.audiences.join(', ') ?? ''}
          hint="The aud values to accept, separated by commas."
          error={f.audiences}
        />
        <Check
          label="Require an audience (recommended)"
          name="audiencesRequired"
          defaultChecked={issuer?.audiencesRequired ?? true}
          error={f.audiencesRequired}
        />
        <div className="field">
          <label htmlFor="issuer-provisioning">Provisioning</label>
          <select
            id="issuer-provisioning"
            name="provisioning"
            defaultValue={issuer?.provisioning ?? 'JIT'}
          >
            <option value="JIT">Create an actor on its first valid token (JIT)</option>
            <option value="EXISTING">Only actors that already exist</option>
          </select>
          {f.provisioning && <p className="field-error">{f.provisioning}</p>}
        </div>
        <details open={advanced} onToggle={(e) => setAdvanced(e.currentTarget.open)}>
          <summary>Advanced settings</summary>
          <Field
            label="Algorithms"
            name="algorithms"
            defaultValue={issuer?.algorithms.join(', ') ?? ''}
            hint="Asymmetric only, separated by commas. Default: RS256."
            error={f.algorithms}
          />
          <Field
            label="Clock tolerance (seconds)"
            name="clockToleranceSeconds"
            inputMode="numeric"
            defaultValue={issuer?.clockToleranceSeconds ?? ''}
            hint="0 to 600. Default: 60."
            error={f.clockToleranceSeconds}
          />
          <Field
            label="Maximum token age (seconds)"
            name="maxTokenAgeSeconds"
            inputMode="numeric"
            defaultValue={issuer?.maxTokenAgeSeconds ?? ''}
            hint="Refuse tokens issued longer ago than this. Empty: no limit."
            error={f.maxTokenAgeSeconds}
          />
          <Field
            label="FHIR base URL"
            name="fhirBase"
            type="url"
            defaultValue={issuer?.fhirBase ?? ''}
            error={f.fhirBase}
          />
          <Check
            label="Accept opaque (non-JWT) tokens at the userinfo URL"
            name="opaque"
            defaultChecked={issuer?.opaque ?? false}
            error={f.opaque}
          />
          <Check
            label="Send credentials to the userinfo endpoint"
            name="userinfoCredentials"
            defaultChecked={issuer?.userinfoCredentials ?? false}
            error={f.userinfoCredentials}
          />
          <Check
            label="Match members by verified email"
            name="emailMatching"
            defaultChecked={issuer?.emailMatching ?? false}
            error={f.emailMatching}
          />
        </details>
        <Check
          label="Save even if the JWKS or userinfo endpoint cannot be reached now"
          name="skipReachabilityCheck"
          defaultChecked={false}
        />
        <FormError message={errors.form} />
        {saved && <Notice>Saved: every node uses the new settings now.</Notice>}
        <SubmitRow
          busy={busy}
          label={issuer ? 'Save changes' : 'Trust this issuer'}
          busyLabel="Checking and saving…"
        >
          {issuer && (
            <button type="button" className="danger" onClick={() => setDeleting(true)}>
              Delete
            </button>
          )}
        </SubmitRow>
      </form>
      {issuer && deleting && (
        <ConfirmDialog
          title={`Stop trusting ${issuer.name}?`}
          confirmLabel={`Delete ${issuer.name}`}
          destructive
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            try {
              await gql(DeleteTrustedIssuer, { name: issuer.name });
              onSaved();
              navigate('/issuers');
            } catch (err) {
              setErrors(formErrors(err, []));
            }
          }}
        >
          <p>
            Tokens of {issuer.issuer} are refused at once, on every node. Its actors stay, but
            cannot sign in with its tokens.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

type Explanation = ExplainTokenQuery['explainToken'];

/**
 * "Test a token": runs explainToken and lists each step with its outcome and a verdict. The token goes
 * only to this server's GraphQL API; the box is emptied once it ran, and nothing keeps it.
 */
function TokenTester() {
  const [result, setResult] = useState<Explanation>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const box = form.elements.namedItem('token') as HTMLTextAreaElement;
    const token = box.value.trim();
    setResult(undefined);
    if (!token) {
      setError('Paste a token to test.');
      return;
    }
    if (token.length > 16_384) {
      setError('This is longer than any token Bridgekeeper accepts (16 KiB).');
      return;
    }
    setError(undefined);
    setBusy(true);
    try {
      setResult((await gql(ExplainToken, { token })).explainToken);
    } catch (err) {
      setError(formErrors(err, ['token']).fields.token ?? formErrors(err, []).form);
    } finally {
      box.value = '';
      setBusy(false);
    }
  };

  return (
    <>
      <h2 id="tester-title">Test a token</h2>
      <form onSubmit={(e) => void submit(e)} noValidate className="wide-form">
        <div className={`field${error ? ' field-invalid' : ''}`}>
          <label htmlFor="tester-token">Token</label>
          <textarea
            id="tester-token"
            name="token"
            autoComplete="off"
            spellCheck={false}
            aria-describedby="tester-hint"
            aria-invalid={error ? true : undefined}
          />
          <p className="hint" id="tester-hint">
            Paste an access token of an identity provider: each validation step is shown. The token
            is sent only to this server, never logged nor kept; the box empties once it ran.
          </p>
          {error && <p className="field-error">{error}</p>}
        </div>
        <SubmitRow busy={busy} label="Test the token" busyLabel="Testing…" />
      </form>
      {result && <ExplanationView result={result} />}
    </>
  );
}

function ExplanationView({ result }: { result: Explanation }) {
  return (
    <div
      className={`verdict ${result.valid ? 'verdict-ok' : 'verdict-bad'}`}
      role="status"
      aria-live="polite"
    >
      <p className="verdict-line">
        {result.valid ? 'Accepted' : 'Refused'}
        {result.issuer && ` · issuer ${result.issuer}`}
        {result.subject && ` · subject ${result.subject}`}
        {result.expiresAt && ` · expires ${when(result.expiresAt)}`}
      </p>
      <ol className="steps">
        {result.steps.map((s) => (
          <li key={s.name} className={`step step-${s.outcome.toLowerCase()}`}>
            <span className="step-outcome">{s.outcome}</span> <strong>{s.name}</strong>
            {s.detail && <span className="step-detail">: {s.detail}</span>}
          </li>
        ))}
      </ol>
    </div>
  );
}
