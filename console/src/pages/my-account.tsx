import { useRef, useState, type FormEvent } from 'react';
import { formErrors, gql } from '../api/client';
import {
  ChangePassword,
  EndMyBrowserSession,
  MyAccount,
  SignOutEverywhere,
  type MyAccountQuery,
} from '../api/generated';
import { forget, signIn } from '../auth';
import { ConfirmDialog } from '../components/confirm';
import { Facts } from '../components/facts';
import { Field, FormError, Notice, SubmitRow } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { useQuery } from '../components/use-query';
import { useTitle } from '../router';
import { displayName } from '../viewer';
import { when } from '../format';

/** The local accounts' issuer: only they have a password to change here. */
const LOCAL_ISSUER = 'bridgekeeper';
/** The server's minimum (bridgekeeper.auth.password.min.length) is checked there; this is a floor. */
const MIN_PASSWORD = 8;

type Me = MyAccountQuery['me'];
type Session = MyAccountQuery['myBrowserSessions'][number];

/** My account (everyone): profile, change password, signed-in browsers, sign out everywhere. */
export function MyAccountPage(_props: { subPath: string }) {
  useTitle('My account');
  const q = useQuery(MyAccount);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">My account</h1>
      {q.error !== undefined && <ErrorState error={q.error} retry={q.reload} />}
      {!q.data ? (
        q.error === undefined && <Loading what="your account" />
      ) : (
        <>
          <Profile me={q.data.me} />
          {q.data.me.issuer === LOCAL_ISSUER ? (
            <PasswordForm />
          ) : (
            <>
              <h2>Password</h2>
              <p>
                You sign in through your identity provider ({q.data.me.issuer}): change your
                password there.
              </p>
            </>
          )}
          <Sessions sessions={q.data.myBrowserSessions} reload={q.reload} />
        </>
      )}
    </section>
  );
}

function Profile({ me }: { me: Me }) {
  const facts = [
    { label: 'Name', value: displayName(me) },
    { label: 'Username', value: me.preferredUsername ?? '—' },
    {
      label: 'Email',
      value: me.email ? `${me.email}${me.emailVerified ? ' (verified)' : ''}` : '—',
    },
    {
      label: 'Signs in with',
      value: me.issuer === LOCAL_ISSUER ? 'a Bridgekeeper password' : me.issuer,
    },
    { label: 'Roles', value: me.roles.length > 0 ? me.roles.join(', ') : 'none' },
    { label: 'Since', value: when(me.createdAt) },
  ];
  return (
    <>
      <h2>Profile</h2>
      <Facts facts={facts} />
    </>
  );
}

const PASSWORD_FIELDS = ['currentPassword', 'newPassword', 'repeat'] as const;

function PasswordForm() {
  const form = useRef<HTMLFormElement>(null);
  const [errors, setErrors] = useState<{ fields: Record<string, string>; form?: string }>({
    fields: {},
  });
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setDone(false);
    const data = new FormData(e.currentTarget);
    const currentPassword = String(data.get('currentPassword') ?? '');
    const newPassword = String(data.get('newPassword') ?? '');
    const repeat = String(data.get('repeat') ?? '');
    const fields: Record<string, string> = {};
    if (!currentPassword) fields.currentPassword = 'Enter your current password.';
    if ([...newPassword].length < MIN_PASSWORD)
      fields.newPassword = `The password must be at least ${MIN_PASSWORD} characters long.`;
    else if (newPassword === currentPassword)
      fields.newPassword = 'Choose a password other than the current one.';
    if (repeat !== newPassword) fields.repeat = 'The two passwords differ.';
    setErrors({ fields });
    if (Object.keys(fields).length > 0) return;
    setBusy(true);
    try {
      await gql(ChangePassword, { currentPassword, newPassword });
      // The passwords never stay in the page once used.
      form.current?.reset();
      setDone(true);
    } catch (err) {
      setErrors(formErrors(err, PASSWORD_FIELDS));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h2 id="password-title">Change password</h2>
      <form ref={form} onSubmit={(e) => void submit(e)} noValidate aria-labelledby="password-title">
        <Field
          label="Current password"
          name="currentPassword"
          type="password"
          autoComplete="current-password"
          error={errors.fields.currentPassword}
        />
        <Field
          label="New password"
          name="newPassword"
          type="password"
          autoComplete="new-password"
          hint="Long and unusual is best: a few words make a good passphrase. Your other signed-in browsers are signed out."
          error={errors.fields.newPassword}
        />
        <Field
          label="Repeat the new password"
          name="repeat"
          type="password"
          autoComplete="new-password"
          error={errors.fields.repeat}
        />
        <FormError message={errors.form} />
        {done && <Notice>Your password was changed. Your other browsers were signed out.</Notice>}
        <SubmitRow busy={busy} label="Change password" busyLabel="Changing…" />
      </form>
    </>
  );
}

function Sessions({ sessions, reload }: { sessions: Session[]; reload: () => void }) {
  const [ending, setEnding] = useState<Session>();
  const [everywhere, setEverywhere] = useState(false);
  const [error, setError] = useState<unknown>();
  return (
    <>
      <h2>Signed-in browsers</h2>
      {error !== undefined && <ErrorState error={error} />}
      {sessions.length === 0 ? (
        <Empty>No browser is signed in to your account.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Browser</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.id}>
                  <td>
                    {s.userAgent ?? 'Unknown browser'}{' '}
                    {s.current && <span className="pill pill-ok">this browser</span>}
                  </td>
                  <td>{when(s.createdAt)}</td>
                  <td>{when(s.lastSeenAt)}</td>
                  <td>
                    {!s.current && (
                      <button type="button" onClick={() => setEnding(s)}>
                        Sign out
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="actions">
        <button type="button" className="danger" onClick={() => setEverywhere(true)}>
          Sign out everywhere
        </button>
      </div>
      {ending && (
        <ConfirmDialog
          title={`Sign out ${ending.userAgent ?? 'this browser'}?`}
          confirmLabel="Sign it out"
          destructive
          onClose={() => setEnding(undefined)}
          onConfirm={async () => {
            try {
              await gql(EndMyBrowserSession, { id: ending.id });
              setError(undefined);
            } catch (err) {
              setError(err);
            }
            reload();
          }}
        >
          <p>
            The browser signed in {when(ending.createdAt)} is signed out, with the apps it signed in
            to.
          </p>
        </ConfirmDialog>
      )}
      {everywhere && (
        <ConfirmDialog
          title="Sign out everywhere?"
          confirmLabel="Sign out everywhere"
          destructive
          onClose={() => setEverywhere(false)}
          onConfirm={async () => {
            try {
              await gql(SignOutEverywhere);
            } catch (err) {
              setError(err);
              return;
            }
            // Every token of yours is revoked, this one included: sign in again.
            forget();
            await signIn('/console/account');
          }}
        >
          <p>
            Every browser and app signed in to your account is signed out, this console included.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
