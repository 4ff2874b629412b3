import { useEffect } from 'react';
import { OverviewPage as OverviewQuery, type OverviewPageQuery } from '../api/generated';
import { Empty, ErrorState, Loading } from '../components/states';
import { useQuery } from '../components/use-query';
import { Link, useTitle } from '../router';
import { ago } from '../format';
import { TokenChart, totalsByReason } from './token-chart';

const MINUTES = 60;
type Issuer = OverviewPageQuery['trustedIssuers'][number];

/**
 * Overview (ADMIN): the counts of the day, each trusted issuer's health (key set state, JWKS age, last
 * error), token validations and refusals per issuer and reason over the last hour.
 */
export function OverviewPage(_props: { subPath: string }) {
  useTitle('Overview');
  const q = useQuery(OverviewQuery, { lastMinutes: MINUTES });
  // It stays current while it is looked at: every 30 s while the tab is visible.
  const { reload } = q;
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, 30_000);
    return () => clearInterval(timer);
  }, [reload]);
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title">Overview</h1>
        <button type="button" onClick={q.reload} disabled={q.loading}>
          Refresh
        </button>
      </div>
      {q.error !== undefined && <ErrorState error={q.error} retry={q.reload} />}
      {!q.data ? (
        q.error === undefined && <Loading what="the overview" />
      ) : (
        <OverviewBody data={q.data} />
      )}
    </section>
  );
}

function OverviewBody({ data }: { data: OverviewPageQuery }) {
  const now = Date.now();
  const totals = totalsByReason(data.tokenStats.buckets);
  return (
    <>
      <ul className="tiles" aria-label="Today">
        <li className="tile">
          <span className="tile-value">{data.overview.actorsCreatedToday}</span>
          <span className="tile-label">actors created today</span>
        </li>
        <li className={`tile${data.overview.failedLoginsLastHour > 0 ? ' tile-warn' : ''}`}>
          <span className="tile-value">{data.overview.failedLoginsLastHour}</span>
          <span className="tile-label">failed logins in the last hour</span>
        </li>
        <li className="tile">
          <span className="tile-value">{data.overview.activeBrowserSessions}</span>
          <span className="tile-label">signed-in browsers</span>
        </li>
      </ul>

      <h2>Trusted issuers</h2>
      {data.trustedIssuers.length === 0 ? (
        <Empty>
          No trusted issuer yet. <Link to="/issuers">Trust your identity provider</Link>.
        </Empty>
      ) : (
        <ul className="cards issuers-health">
          {data.trustedIssuers.map((i) => (
            <IssuerHealth key={i.name} issuer={i} now={now} />
          ))}
        </ul>
      )}

      <h2>Token validations, last hour</h2>
      {data.tokenStats.buckets.length === 0 ? (
        <Empty>No token was validated in the last hour.</Empty>
      ) : (
        <>
          <TokenChart buckets={data.tokenStats.buckets} minutes={MINUTES} now={now} />
          <table className="table">
            <caption>By issuer and outcome</caption>
            <thead>
              <tr>
                <th scope="col">Issuer</th>
                <th scope="col">Outcome</th>
                <th scope="col" className="num">
                  Tokens
                </th>
              </tr>
            </thead>
            <tbody>
              {totals.map((t) => (
                <tr key={`${t.issuer}/${t.reason ?? ''}`}>
                  <td>{t.issuer}</td>
                  <td>
                    {t.reason === null ? (
                      <span className="pill pill-ok">accepted</span>
                    ) : (
                      <span className="pill pill-bad">refused: {t.reason}</span>
                    )}
                  </td>
                  <td className="num">{t.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}

const STATE_TEXT: Record<string, string> = {
  OK: 'healthy',
  STALE: 'stale keys',
  FAILING: 'failing',
  PENDING: 'not fetched yet',
};

function IssuerHealth({ issuer, now }: { issuer: Issuer; now: number }) {
  const ks = issuer.keySet;
  const state = ks?.state ?? 'USERINFO';
  const tone = state === 'OK' || state === 'USERINFO' ? 'ok' : state === 'PENDING' ? 'wait' : 'bad';
  return (
    <li className={`card health-${tone}`}>
      <h3>
        <Link to={`/issuers/${encodeURIComponent(issuer.name)}`}>{issuer.name}</Link>{' '}
        <span className={`pill pill-${tone}`}>
          {ks ? STATE_TEXT[state] : 'checked at its userinfo endpoint'}
        </span>
      </h3>
      <p className="mono small">{issuer.issuer}</p>
      {ks && (
        <dl className="facts">
          <dt>JWKS age</dt>
          <dd>{ks.lastSuccessAt ? ago(ks.lastSuccessAt, now) : 'never fetched'}</dd>
          <dt>Keys</dt>
          <dd>{ks.keyCount}</dd>
          <dt>Last error</dt>
          <dd>
            {ks.lastError ? `${ks.lastError.message} (${ago(ks.lastError.at, now)})` : 'none'}
          </dd>
        </dl>
      )}
    </li>
  );
}
