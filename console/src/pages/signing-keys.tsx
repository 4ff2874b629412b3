import { useState } from 'react';
import { gql } from '../api/client';
import { RotateSigningKey, SigningKeys, type SigningKeysQuery } from '../api/generated';
import { ConfirmDialog } from '../components/confirm';
import { FormError } from '../components/field';
import { Empty, ErrorState, Loading } from '../components/states';
import { useQuery } from '../components/use-query';
import { when } from '../format';
import { useTitle } from '../router';
import { fieldErrors } from './page-kit';

type Key = SigningKeysQuery['signingKeys'][number];

const ORDER = { ACTIVE: 0, NEXT: 1, RETIRED: 2 } as const;
const PILL = {
  ACTIVE: ['ok', 'active: signs tokens'],
  NEXT: ['wait', 'next: published, signs after rotation'],
  RETIRED: ['muted', 'retired: verifies only'],
} as const;

/** Bridgekeeper's own signing keys (ADMIN): status and rotation with a confirmation. */
export function SigningKeysPage(_props: { subPath: string }) {
  useTitle('Signing keys');
  const q = useQuery(SigningKeys);
  const [rotating, setRotating] = useState(false);
  const [done, setDone] = useState<string>();
  const [error, setError] = useState<string>();
  const keys = [...(q.data?.signingKeys ?? [])].sort(
    (a, b) => ORDER[a.status] - ORDER[b.status] || b.createdAt.localeCompare(a.createdAt),
  );
  const active = keys.find((k) => k.status === 'ACTIVE');
  const next = keys.find((k) => k.status === 'NEXT');
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title">Signing keys</h1>
        <button
          type="button"
          className="danger"
          disabled={!q.data}
          onClick={() => {
            setDone(undefined);
            setRotating(true);
          }}
        >
          Rotate now
        </button>
      </div>
      <p className="small">
        Bridgekeeper signs its tokens with the ACTIVE key; the NEXT key is already published in the
        JWKS so relying parties know it before it signs; a retired key keeps verifying until its
        tokens have expired. Keys rotate on schedule by themselves: rotate by hand only when a key
        may be compromised.
      </p>
      {done && (
        <p className="notice" role="status">
          Rotated: {done} signs new tokens from now on.
        </p>
      )}
      <FormError message={error} />
      {q.error !== undefined && <ErrorState error={q.error} retry={q.reload} />}
      {!q.data && q.error === undefined && <Loading what="signing keys" />}
      {q.data &&
        (keys.length === 0 ? (
          <Empty>No signing key yet: one is made at the first start.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table table-stack">
              <thead>
                <tr>
                  <th scope="col">Key id (kid)</th>
                  <th scope="col">Algorithm</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  <th scope="col">Activated</th>
                  <th scope="col">Retired</th>
                  <th scope="col">Published until</th>
                </tr>
              </thead>
              <tbody>
                {keys.map((k: Key) => (
                  <tr key={k.kid} data-status={k.status}>
                    <td data-label="Key id" className="mono">
                      {k.kid}
                    </td>
                    <td data-label="Algorithm">{k.alg}</td>
                    <td data-label="Status">
                      <span className={`pill pill-${PILL[k.status][0]}`}>{PILL[k.status][1]}</span>
                    </td>
                    <td data-label="Created">{when(k.createdAt)}</td>
                    <td data-label="Activated">{when(k.activatedAt)}</td>
                    <td data-label="Retired">{when(k.retiredAt)}</td>
                    <td data-label="Published until">{when(k.publishUntil)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {rotating && (
        <ConfirmDialog
          title={`Rotate the signing key ${active?.kid ?? ''}?`.replace(' ?', '?')}
          confirmLabel="Rotate the signing key"
          destructive
          onClose={() => setRotating(false)}
          onConfirm={async () => {
            setError(undefined);
            try {
              const rotated = (await gql(RotateSigningKey)).rotateSigningKey;
              setDone(rotated.kid);
              q.reload();
            } catch (err) {
              setError(fieldErrors(err, []).form);
            }
          }}
        >
          <p>
            {next ? `${next.kid} signs from now on` : 'The next key signs from now on'}, even if
            relying parties have cached the JWKS for less time than its max-age; a new NEXT key is
            published. {active?.kid ?? 'The active key'} keeps verifying until its tokens expire.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
