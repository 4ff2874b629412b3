import { useState, type FormEvent } from 'react';
import { gql, type FormErrors } from '../api/client';
import {
  CreateProject,
  InviteIssuers,
  InviteMember,
  ProjectPage,
  Projects,
  RemoveMembership,
  SetMembershipActive,
  type InviteMemberMutation,
  type MemberRowFragment,
  type ProfileResourceType,
} from '../api/generated';
import { ConfirmDialog } from '../components/confirm';
import { Check, Field, FormError } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { useQuery } from '../components/use-query';
import { when } from '../format';
import { Link, navigate, useTitle } from '../router';
import { useViewer } from '../viewer';
import { fieldErrors, SecretOnce, Select } from './page-kit';

/**
 * Projects and members: `/projects` (the projects this person administers; a server ADMIN creates
 * them), `/projects/<id>` (members, invite, deactivate, remove).
 */
export function ProjectsPage({ subPath }: { subPath: string }) {
  const id = decodeURIComponent(subPath.replace(/^\//, ''));
  return id ? <ProjectView id={id} /> : <ProjectList />;
}

function ProjectList() {
  useTitle('Projects');
  const viewer = useViewer();
  const q = useQuery(Projects);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Projects</h1>
      {!viewer.isServerAdmin && <p className="small">You see the projects you administer.</p>}
      {q.error !== undefined && <ErrorState error={q.error} retry={q.reload} />}
      {!q.data && q.error === undefined && <Loading what="projects" />}
      {q.data &&
        (q.data.projects.length === 0 ? (
          <Empty>
            No project yet{viewer.isServerAdmin ? ': create the first one below.' : '.'}
          </Empty>
        ) : (
          <div className="table-wrap">
            <table className="table table-stack">
              <thead>
                <tr>
                  <th scope="col">Project</th>
                  <th scope="col" className="num">
                    Members
                  </th>
                  <th scope="col" className="num">
                    Active
                  </th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {q.data.projects.map((p) => (
                  <tr key={p.id}>
                    <td data-label="Project">
                      <Link to={`/projects/${p.id}`}>{p.name}</Link>
                    </td>
                    <td data-label="Members" className="num">
                      {p.memberships.length}
                    </td>
                    <td data-label="Active" className="num">
                      {p.memberships.filter((m) => m.active).length}
                    </td>
                    <td data-label="Created">{when(p.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {viewer.isServerAdmin && <CreateProjectForm />}
    </section>
  );
}

function CreateProjectForm() {
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const name = String(new FormData(e.currentTarget).get('name') ?? '').trim();
    if (!name || name.length > 200) {
      setErrors({ fields: { name: 'A name of 1 to 200 characters is required.' } });
      return;
    }
    setErrors({ fields: {} });
    setBusy(true);
    try {
      const created = (await gql(CreateProject, { name })).createProject;
      navigate(`/projects/${created.id}`);
    } catch (err) {
      setErrors(fieldErrors(err, ['name']));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="wide-form">
      <h2>Create a project</h2>
      <Field
        label="Project name"
        name="name"
        required
        maxLength={200}
        autoComplete="off"
        error={errors.fields.name}
      />
      <FormError message={errors.form} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create project'}
        </button>
      </div>
    </form>
  );
}

type Member = MemberRowFragment;
type Invited = InviteMemberMutation['inviteMember'];

function memberName(m: Member): string {
  return `${m.profile.givenName} ${m.profile.familyName}`.trim();
}

function ProjectView({ id }: { id: string }) {
  const q = useQuery(ProjectPage, { id });
  const [invited, setInvited] = useState<{ member: Invited; asked: boolean }>();
  const [confirm, setConfirm] = useState<{ member: Member; action: 'deactivate' | 'remove' }>();
  const [actionError, setActionError] = useState<string>();
  const project = q.data?.project;
  useTitle(project?.name ?? 'Project');

  const setActive = async (m: Member, active: boolean) => {
    setActionError(undefined);
    try {
      await gql(SetMembershipActive, { id: m.id, active });
      q.reload();
    } catch (err) {
      setActionError(fieldErrors(err, []).form);
    }
  };

  return (
    <section aria-labelledby="page-title">
      <p>
        <Link to="/projects">← All projects</Link>
      </p>
      {q.error !== undefined && <ErrorState error={q.error} retry={q.reload} />}
      {!q.data && q.error === undefined && <Loading what="the project" />}
      {project && (
        <>
          <h1 id="page-title">{project.name}</h1>
          <h2>Members</h2>
          <FormError message={actionError} />
          {project.memberships.length === 0 ? (
            <Empty>No member yet: invite the first one below.</Empty>
          ) : (
            <div className="table-wrap">
              <table className="table table-stack">
                <thead>
                  <tr>
                    <th scope="col">Member</th>
                    <th scope="col">Profile</th>
                    <th scope="col">externalId</th>
                    <th scope="col">Issuer</th>
                    <th scope="col">Status</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {project.memberships.map((m) => (
                    <tr key={m.id}>
                      <td data-label="Member">
                        <strong>{memberName(m)}</strong>
                        {m.admin && <span className="pill pill-muted"> admin</span>}
                        <div className="small">{m.email ?? m.profile.email ?? '—'}</div>
                      </td>
                      <td data-label="Profile" className="mono">
                        {m.profile.reference}
                      </td>
                      <td data-label="externalId" className="mono">
                        {m.externalId ?? '—'}
                      </td>
                      <td data-label="Issuer">{m.issuer ?? '—'}</td>
                      <td data-label="Status">
                        {m.active ? (
                          <span className="pill pill-ok">active</span>
                        ) : (
                          <span className="pill pill-bad">inactive</span>
                        )}{' '}
                        {m.actorId ? (
                          <span className="pill pill-muted">signed in</span>
                        ) : (
                          <span className="pill pill-wait">invited</span>
                        )}
                      </td>
                      <td data-label="Actions">
                        <div className="member-actions">
                          {m.active ? (
                            <button
                              type="button"
                              onClick={() => setConfirm({ member: m, action: 'deactivate' })}
                            >
                              Deactivate
                            </button>
                          ) : (
                            <button type="button" onClick={() => void setActive(m, true)}>
                              Activate
                            </button>
                          )}
                          <button
                            type="button"
                            className="danger"
                            onClick={() => setConfirm({ member: m, action: 'remove' })}
                          >
                            Remove
                          </button>
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {invited && (
            <InviteResult
              invited={invited.member}
              asked={invited.asked}
              onLinkHidden={() =>
                setInvited({ ...invited, member: { ...invited.member, setPasswordLink: null } })
              }
            />
          )}
          <InviteForm
            projectId={project.id}
            isServerAdmin={q.data!.viewer.isServerAdmin}
            onInvited={(member, asked) => {
              setInvited({ member, asked });
              q.reload();
            }}
          />
        </>
      )}
      {confirm && project && (
        <ConfirmDialog
          title={
            confirm.action === 'remove'
              ? `Remove ${memberName(confirm.member)} from ${project.name}?`
              : `Deactivate ${memberName(confirm.member)} in ${project.name}?`
          }
          confirmLabel={
            confirm.action === 'remove'
              ? `Remove ${memberName(confirm.member)}`
              : `Deactivate ${memberName(confirm.member)}`
          }
          destructive
          onClose={() => setConfirm(undefined)}
          onConfirm={async () => {
            if (confirm.action === 'deactivate') return setActive(confirm.member, false);
            setActionError(undefined);
            try {
              await gql(RemoveMembership, { id: confirm.member.id });
              q.reload();
            } catch (err) {
              setActionError(fieldErrors(err, []).form);
            }
          }}
        >
          <p>
            {confirm.action === 'remove'
              ? 'The membership and its profile are deleted: their tokens no longer reach this project. Invite them again to undo.'
              : 'Their tokens no longer reach this project until you activate the membership again.'}
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function InviteResult({
  invited,
  asked,
  onLinkHidden,
}: {
  invited: Invited;
  asked: boolean;
  onLinkHidden: () => void;
}) {
  const name = memberName(invited);
  let email: string;
  if (invited.inviteEmailSent) email = `Invite email: sent to ${invited.email}.`;
  else if (!invited.email) email = 'Invite email: not sent (no email address).';
  else if (!asked) email = 'Invite email: not sent (you did not ask for one).';
  else
    email =
      'Invite email: NOT sent (email is not configured on the server, or sending failed). The invite is stored: tell them to sign in yourself.';
  const link = invited.setPasswordLink;
  const ways = invited.recognisedBy ?? [];
  return (
    <div className="notice" role="status">
      <p>
        <strong>{name}</strong> is invited.
      </p>
      <p data-testid="invite-email-status">{email}</p>
      {link && (
        <SecretOnce
          title={`${name}’s set-password link`}
          label="Set-password link"
          warning="No email carried it: hand it to them privately (it works once, and only until it expires). It is shown only this once; inviting them again makes a new one."
          secret={link}
          onDone={onLinkHidden}
        />
      )}
      {ways.length === 0 ? (
        <p className="small">
          No trusted issuer recognises them yet (no externalId, issuer or email matching): they can
          sign in only through their set-password link.
        </p>
      ) : (
        <ul className="small">
          {ways.map((w) => (
            <li key={`${w.method}-${w.issuer}-${w.value}`}>
              A token of {w.issuer} with {w.claim} = <span className="mono">{w.value}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

const RESOURCE_TYPES: { value: ProfileResourceType; label: string }[] = [
  { value: 'Practitioner', label: 'Practitioner' },
  { value: 'Patient', label: 'Patient' },
  { value: 'RelatedPerson', label: 'Related person' },
];
const INVITE_FIELDS = [
  'resourceType',
  'firstName',
  'lastName',
  'email',
  'externalId',
  'issuer',
  'admin',
  'sendEmail',
] as const;
/** The API's rule for an email (class-validator's IsEmail, roughly): one @, a dot in the domain. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const ISSUER_NAME = /^[a-z0-9]{1,64}$/;

function InviteForm({
  projectId,
  isServerAdmin,
  onInvited,
}: {
  projectId: string;
  isServerAdmin: boolean;
  onInvited: (m: Invited, asked: boolean) => void;
}) {
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const d = new FormData(form);
    const text = (k: string) => String(d.get(k) ?? '').trim();
    const fields: Record<string, string> = {};
    const firstName = text('firstName');
    const lastName = text('lastName');
    const email = text('email');
    const externalId = text('externalId');
    const issuer = text('issuer');
    if (!firstName || firstName.length > 200) fields.firstName = 'First name: 1 to 200 characters.';
    if (!lastName || lastName.length > 200) fields.lastName = 'Last name: 1 to 200 characters.';
    if (email && (!EMAIL.test(email) || email.length > 320))
      fields.email = 'Must be an email address.';
    if (externalId.length > 255) fields.externalId = 'At most 255 characters.';
    if (!email && !externalId) fields.email = 'Give an email, an externalId, or both.';
    if (issuer && !ISSUER_NAME.test(issuer))
      fields.issuer = 'A trusted issuer’s name: lower-case letters and digits.';
    setErrors({ fields });
    if (Object.keys(fields).length > 0) return;
    const sendEmail = d.get('sendEmail') === 'on';
    setBusy(true);
    try {
      const member = (
        await gql(InviteMember, {
          projectId,
          input: {
            resourceType: text('resourceType') as ProfileResourceType,
            firstName,
            lastName,
            email: email || undefined,
            externalId: externalId || undefined,
            issuer: issuer || undefined,
            admin: d.get('admin') === 'on',
            sendEmail: sendEmail && !!email,
          },
        })
      ).inviteMember;
      form.reset();
      onInvited(member, sendEmail);
    } catch (err) {
      setErrors(fieldErrors(err, INVITE_FIELDS));
    } finally {
      setBusy(false);
    }
  };

  const f = errors.fields;
  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="wide-form">
      <h2>Invite a member</h2>
      <Select
        label="Profile type"
        name="resourceType"
        defaultValue="Practitioner"
        options={RESOURCE_TYPES}
        error={f.resourceType}
      />
      <div className="grid-fields">
        <Field label="First name" name="firstName" required maxLength={200} error={f.firstName} />
        <Field label="Last name" name="lastName" required maxLength={200} error={f.lastName} />
      </div>
      <Field
        label="Email"
        name="email"
        type="email"
        autoComplete="off"
        maxLength={320}
        hint="An email, an externalId, or both."
        error={f.email}
      />
      <Field
        label="externalId"
        name="externalId"
        autoComplete="off"
        maxLength={255}
        hint="Their subject (sub) at the issuer below."
        error={f.externalId}
      />
      {isServerAdmin ? (
        <IssuerChoice error={f.issuer} />
      ) : (
        <Field
          label="Issuer"
          name="issuer"
          autoComplete="off"
          maxLength={64}
          hint={ISSUER_HINT}
          error={f.issuer}
        />
      )}
      <Check label="Project admin" name="admin" error={f.admin} />
      <Check label="Send an invite email" name="sendEmail" defaultChecked error={f.sendEmail} />
      <p className="small">
        Only with an email address. Without an externalId it carries a one-time set-password link.
      </p>
      <FormError message={errors.form} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Inviting…' : 'Invite'}
        </button>
      </div>
    </form>
  );
}

const ISSUER_HINT =
  'A trusted issuer’s name: binds the member (only its tokens find them). Required with an externalId when several issuers are trusted.';

/** For a server ADMIN, the trusted issuers to choose from (a project admin types the name). */
function IssuerChoice({ error }: { error?: string }) {
  const issuers = useQuery(InviteIssuers);
  const names = issuers.data?.trustedIssuers.map((i) => i.name) ?? [];
  return (
    <Select
      label="Issuer"
      name="issuer"
      defaultValue=""
      options={[
        { value: '', label: 'None (or the only trusted issuer, with an externalId)' },
        ...names.map((n) => ({ value: n, label: n })),
      ]}
      hint={ISSUER_HINT}
      error={error}
    />
  );
}
