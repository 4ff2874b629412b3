import { useState, type FormEvent } from 'react';
import { ApiError, formErrors, gql } from '../api/client';
import {
  ActorDetail,
  ActorsPage as ActorsQuery,
  DisableActor,
  EnableActor,
  RevokeSessions,
  SetActorRoles,
  type ActorFilter,
  type ActorDetailQuery,
  type ActorStatus,
} from '../api/generated';
import { ConfirmDialog } from '../components/confirm';
import { Facts } from '../components/facts';
import { Field, FormError, Notice, SubmitRow } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { useQuery } from '../components/use-query';
import { when } from '../format';
import { Link, navigate, useLocation, useTitle } from '../router';
import { displayName, useViewer } from '../viewer';

const PAGE_SIZE = 25;
const FILTER_KEYS = ['search', 'issuer', 'subject', 'email', 'name', 'status'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];

/** Actors (ADMIN): search and page through; `/actors/<id>` shows one, with its actions. */
export function ActorsPage({ subPath }: { subPath: string }) {
  const id = subPath.replace(/^\//, '');
  return id ? <ActorView id={id} /> : <ActorList />;
}

/** The filter lives in the address (`?email=…&status=DISABLED`): back, reload and links keep it. */
function filterFromSearch(search: string): Partial<Record<FilterKey, string>> {
  const params = new URLSearchParams(search);
  const out: Partial<Record<FilterKey, string>> = {};
  for (const k of FILTER_KEYS) {
    const v = params.get(k)?.trim();
    if (v) out[k] = v;
  }
  return out;
}

function ActorList() {
  useTitle('Actors');
  const { search } = useLocation();
  const filter = filterFromSearch(search);
  // Cursors of the pages before this one: "Previous" pops one.
  const [cursors, setCursors] = useState<(string | null)[]>([]);
  const [after, setAfter] = useState<string | null>(null);
  const [showMore, setShowMore] = useState(
    Boolean(filter.issuer || filter.subject || filter.email || filter.name || filter.status),
  );
  const variables: { first: number; after: string | null; filter: ActorFilter } = {
    first: PAGE_SIZE,
    after,
    filter: { ...filter, status: (filter.status as ActorStatus | undefined) ?? null },
  };
  const q = useQuery(ActorsQuery, variables);

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const params = new URLSearchParams();
    for (const k of FILTER_KEYS) {
      const v = String(data.get(k) ?? '').trim();
      if (v) params.set(k, v);
    }
    setCursors([]);
    setAfter(null);
    const qs = params.toString();
    navigate(`/actors${qs ? `?${qs}` : ''}`, true);
  };

  const issuers = q.data?.trustedIssuers.map((i) => i.name) ?? [];
  const conn = q.data?.actors;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Actors</h1>
      <form className="search" role="search" onSubmit={submit} key={search}>
        <Field
          label="Search"
          name="search"
          type="search"
          defaultValue={filter.search ?? ''}
          hint="Email, name, username or subject contains this."
          maxLength={200}
        />
        {showMore && (
          <div className="grid-fields">
            <div className="field">
              <label htmlFor="filter-issuer">Issuer</label>
              <select id="filter-issuer" name="issuer" defaultValue={filter.issuer ?? ''}>
                <option value="">Any issuer</option>
                {['bridgekeeper', ...issuers.filter((i) => i !== 'bridgekeeper')].map((i) => (
                  <option key={i} value={i}>
                    {i === 'bridgekeeper' ? 'bridgekeeper (local accounts)' : i}
                  </option>
                ))}
                {filter.issuer && !issuers.includes(filter.issuer) && (
                  <option value={filter.issuer}>{filter.issuer}</option>
                )}
              </select>
            </div>
            <Field
              label="Subject"
              name="subject"
              defaultValue={filter.subject ?? ''}
              maxLength={200}
            />
            <Field label="Email" name="email" defaultValue={filter.email ?? ''} maxLength={200} />
            <Field label="Name" name="name" defaultValue={filter.name ?? ''} maxLength={200} />
            <div className="field">
              <label htmlFor="filter-status">Status</label>
              <select id="filter-status" name="status" defaultValue={filter.status ?? ''}>
                <option value="">Any status</option>
                <option value="ACTIVE">Active</option>
                <option value="DISABLED">Disabled</option>
              </select>
            </div>
          </div>
        )}
        <div className="actions">
          <button type="submit" className="primary">
            Search
          </button>
          <button type="button" className="link" onClick={() => setShowMore((s) => !s)}>
            {showMore ? 'Fewer filters' : 'More filters'}
          </button>
          {search && (
            <button type="button" onClick={() => navigate('/actors', true)}>
              Clear
            </button>
          )}
        </div>
      </form>

      {q.error !== undefined && <ErrorState error={q.error} retry={q.reload} />}
      {!conn ? (
        q.error === undefined && <Loading what="actors" />
      ) : conn.edges.length === 0 ? (
        <Empty>{search ? 'No actor matches this search.' : 'No actor yet.'}</Empty>
      ) : (
        <>
          <p className="small" role="status">
            {conn.totalCount} {conn.totalCount === 1 ? 'actor' : 'actors'}
            {search ? ' match' : ''} · page {cursors.length + 1}
          </p>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Actor</th>
                  <th scope="col">Issuer</th>
                  <th scope="col">Status</th>
                  <th scope="col">Roles</th>
                  <th scope="col">Last seen</th>
                </tr>
              </thead>
              <tbody>
                {conn.edges.map(({ node }) => (
                  <tr key={node.id}>
                    <td>
                      <Link to={`/actors/${node.id}`}>{displayName(node)}</Link>
                      {node.email && node.email !== displayName(node) && (
                        <div className="small">{node.email}</div>
                      )}
                    </td>
                    <td>
                      {node.issuer}
                      <div className="small mono">{node.subject}</div>
                    </td>
                    <td>
                      <StatusPill status={node.status} />
                    </td>
                    <td>{node.roles.join(', ') || '—'}</td>
                    <td>{when(node.lastSeenAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages of actors">
            <button
              type="button"
              disabled={cursors.length === 0 || q.loading}
              onClick={() => {
                const previous = cursors.slice(0, -1);
                setAfter(cursors[cursors.length - 1] ?? null);
                setCursors(previous);
              }}
            >
              Previous page
            </button>
            <button
              type="button"
              disabled={!conn.pageInfo.hasNextPage || q.loading}
              onClick={() => {
                setCursors([...cursors, after]);
                setAfter(conn.pageInfo.endCursor);
              }}
            >
              Next page
            </button>
          </nav>
        </>
      )}
    </section>
  );
}

function StatusPill({ status }: { status: ActorStatus }) {
  return status === 'ACTIVE' ? (
    <span className="pill pill-ok">active</span>
  ) : (
    <span className="pill pill-bad">disabled</span>
  );
}

type Detail = NonNullable<ActorDetailQuery['actor']>;
type Pending = 'disable' | 'enable' | 'revoke';

function ActorView({ id }: { id: string }) {
  const viewer = useViewer();
  const q = useQuery(ActorDetail, { id });
  const actor = q.data?.actor;
  useTitle(actor ? displayName(actor) : 'Actor');
  const [pending, setPending] = useState<Pending>();
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState<string>();
  const self = actor?.id === viewer.actor.id;

  const act = async (what: Pending, target: Detail) => {
    setNotice(undefined);
    try {
      if (what === 'revoke') {
        const n = (await gql(RevokeSessions, { actorId: target.id })).revokeSessions;
        setNotice(`Every session of ${displayName(target)} was ended (${n} open before).`);
      } else {
        if (what === 'disable') await gql(DisableActor, { id: target.id });
        else await gql(EnableActor, { id: target.id });
        setNotice(`${displayName(target)} is ${what === 'disable' ? 'disabled' : 'enabled'}.`);
      }
      setError(undefined);
      q.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="page-title">
      <p>
        <Link to="/actors">← All actors</Link>
      </p>
      {q.error !== undefined && <ErrorState error={q.error} retry={q.reload} />}
      {!q.data ? (
        q.error === undefined && <Loading what="the actor" />
      ) : !actor ? (
        <>
          <h1 id="page-title">Actor not found</h1>
          <Empty>No actor has this id.</Empty>
        </>
      ) : (
        <>
          <div className="page-head">
            <h1 id="page-title">
              {displayName(actor)} <StatusPill status={actor.status} />
            </h1>
          </div>
          {self && (
            <p className="notice">
              This is you: your own account cannot be disabled or signed out from here (use My
              account).
            </p>
          )}
          {notice && <Notice>{notice}</Notice>}
          {error !== undefined && <ErrorState error={error} />}
          <div className="actions">
            {actor.status === 'ACTIVE' ? (
              <button
                type="button"
                className="danger"
                disabled={self}
                onClick={() => setPending('disable')}
              >
                Disable
              </button>
            ) : (
              <button type="button" disabled={self} onClick={() => setPending('enable')}>
                Enable
              </button>
            )}
            <button type="button" disabled={self} onClick={() => setPending('revoke')}>
              Revoke sessions
            </button>
          </div>
          <h2>Identity</h2>
          <Facts
            facts={[
              { label: 'Issuer', value: actor.issuer },
              { label: 'Subject', value: actor.subject, mono: true },
              {
                label: 'Email',
                value: actor.email
                  ? `${actor.email}${actor.emailVerified ? ' (verified)' : ''}`
                  : '—',
              },
              { label: 'Username', value: actor.preferredUsername ?? '—' },
              { label: 'Given name', value: actor.givenName ?? '—' },
              { label: 'Family name', value: actor.familyName ?? '—' },
              { label: 'First seen', value: when(actor.createdAt) },
              { label: 'Last seen', value: when(actor.lastSeenAt) },
              { label: 'Id', value: actor.id, mono: true },
              ...actor.attributes.map((a) => ({ label: a.name, value: a.value, mono: true })),
            ]}
          />
          <RolesForm actor={actor} self={self} onSaved={q.reload} />
          <h2>Memberships</h2>
          {actor.memberships.length === 0 ? (
            <Empty>Not a member of any project.</Empty>
          ) : (
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Project</th>
                    <th scope="col">Profile</th>
                    <th scope="col">Member</th>
                  </tr>
                </thead>
                <tbody>
                  {actor.memberships.map((m) => (
                    <tr key={m.id}>
                      <td>
                        <Link to={`/projects/${m.projectId}`}>
                          {q.data!.projects.find((p) => p.id === m.projectId)?.name ?? m.projectId}
                        </Link>
                      </td>
                      <td>
                        {m.profile.givenName} {m.profile.familyName}
                        <div className="small mono">{m.profile.reference}</div>
                      </td>
                      <td>
                        {m.active ? (
                          <span className="pill pill-ok">active</span>
                        ) : (
                          <span className="pill pill-muted">inactive</span>
                        )}{' '}
                        {m.admin && <span className="pill pill-wait">project admin</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {pending && (
            <ConfirmDialog
              title={
                pending === 'disable'
                  ? `Disable ${displayName(actor)}?`
                  : pending === 'enable'
                    ? `Enable ${displayName(actor)}?`
                    : `Revoke every session of ${displayName(actor)}?`
              }
              confirmLabel={
                pending === 'disable'
                  ? 'Disable'
                  : pending === 'enable'
                    ? 'Enable'
                    : 'Revoke sessions'
              }
              destructive={pending !== 'enable'}
              onClose={() => setPending(undefined)}
              onConfirm={() => act(pending, actor)}
            >
              <p>
                {pending === 'disable'
                  ? `Every token of ${actor.issuer}:${actor.subject} is refused from the next request on, and its sessions end.`
                  : pending === 'enable'
                    ? 'It may authenticate again; its old sessions stay ended.'
                    : 'Its grants and refresh tokens end now; its access tokens and browser sessions within a second, on every node.'}
              </p>
            </ConfirmDialog>
          )}
        </>
      )}
    </section>
  );
}

const ROLE = /^[A-Z][A-Z0-9_]{0,63}$/;

function RolesForm({
  actor,
  self,
  onSaved,
}: {
  actor: Detail;
  self: boolean;
  onSaved: () => void;
}) {
  const [error, setError] = useState<string>();
  const [formError, setFormError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setSaved(false);
    const raw = String(new FormData(e.currentTarget).get('roles') ?? '');
    const roles = [
      ...new Set(
        raw
          .split(/[\s,]+/)
          .filter(Boolean)
          .map((r) => r.toUpperCase()),
      ),
    ];
    const bad = roles.find((r) => !ROLE.test(r));
    if (bad) {
      setError(`"${bad}" is not a role name: upper-case letters, digits and _ only.`);
      return;
    }
    if (roles.length > 32) {
      setError('At most 32 roles.');
      return;
    }
    setError(undefined);
    setFormError(undefined);
    setBusy(true);
    try {
      await gql(SetActorRoles, { id: actor.id, roles });
      setSaved(true);
      onSaved();
    } catch (err) {
      const f = formErrors(err, ['roles']);
      setError(f.fields.roles);
      setFormError(f.form ?? (err instanceof ApiError ? undefined : 'Saving failed.'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h2 id="roles-title">Roles</h2>
      <form onSubmit={(e) => void submit(e)} noValidate aria-labelledby="roles-title">
        <Field
          label="Roles"
          name="roles"
          defaultValue={actor.roles.join(', ')}
          key={actor.roles.join(',')}
          hint="Upper-case names separated by commas, e.g. ADMIN. ADMIN granted by the configuration stays."
          error={error}
          disabled={self}
        />
        <FormError message={formError} />
        {saved && <Notice>Roles saved.</Notice>}
        <SubmitRow
          busy={busy}
          label="Save roles"
          busyLabel="Saving…"
          primary={false}
          disabled={self}
        />
      </form>
    </>
  );
}
