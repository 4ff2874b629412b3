import type { OverviewPageQuery } from '../api/generated';

type Bucket = OverviewPageQuery['tokenStats']['buckets'][number];

export interface Total {
  issuer: string;
  /** null: accepted. */
  reason: string | null;
  count: number;
}

/** Sums per issuer and refusal reason (accepted first, then refusals by count). */
export function totalsByReason(buckets: Bucket[]): Total[] {
  const map = new Map<string, Total>();
  for (const b of buckets) {
    const reason = b.outcome === 'ACCEPTED' ? null : (b.reason ?? 'unknown');
    const key = `${b.issuer}\u0000${reason ?? ''}`;
    const t = map.get(key) ?? { issuer: b.issuer, reason, count: 0 };
    t.count += b.count;
    map.set(key, t);
  }
  return [...map.values()].sort(
    (a, b) =>
      a.issuer.localeCompare(b.issuer) ||
      (a.reason === null ? -1 : b.reason === null ? 1 : b.count - a.count),
  );
}

const H = 40;

/**
 * One row per issuer: a bar per minute of the last `minutes` (empty minutes included), accepted
 * stacked under refused, scaled to the busiest minute of all issuers. Plain SVG (no chart library);
 * the table next to it carries the same numbers for screen readers.
 */
export function TokenChart({
  buckets,
  minutes,
  now,
}: {
  buckets: Bucket[];
  minutes: number;
  now: number;
}) {
  const end = Math.floor(now / 60000);
  const start = end - minutes + 1;
  const issuers = [...new Set(buckets.map((b) => b.issuer))].sort();
  const cells = new Map<string, { accepted: number; refused: number }>();
  for (const b of buckets) {
    const minute = Math.floor(Date.parse(b.minute) / 60000);
    if (minute < start || minute > end) continue;
    const key = `${b.issuer}\u0000${minute}`;
    const c = cells.get(key) ?? { accepted: 0, refused: 0 };
    if (b.outcome === 'ACCEPTED') c.accepted += b.count;
    else c.refused += b.count;
    cells.set(key, c);
  }
  const max = Math.max(1, ...[...cells.values()].map((c) => c.accepted + c.refused));
  return (
    <figure className="chart">
      {issuers.map((issuer) => {
        let accepted = 0;
        let refused = 0;
        const bars = [];
        for (let m = start; m <= end; m++) {
          const c = cells.get(`${issuer}\u0000${m}`);
          if (!c) continue;
          accepted += c.accepted;
          refused += c.refused;
          const x = m - start;
          const hA = (c.accepted / max) * H;
          const hR = (c.refused / max) * H;
          const when = new Date(m * 60000).toISOString().slice(11, 16);
          if (hA > 0)
            bars.push(
              <rect key={`a${m}`} className="bar-ok" x={x + 0.1} y={H - hA} width={0.8} height={hA}>
                <title>{`${when} UTC: ${c.accepted} accepted`}</title>
              </rect>,
            );
          if (hR > 0)
            bars.push(
              <rect
                key={`r${m}`}
                className="bar-bad"
                x={x + 0.1}
                y={H - hA - hR}
                width={0.8}
                height={hR}
              >
                <title>{`${when} UTC: ${c.refused} refused`}</title>
              </rect>,
            );
        }
        return (
          <div className="chart-row" key={issuer}>
            <p className="chart-label">
              {issuer}{' '}
              <span className="small">
                {accepted} accepted, {refused} refused
              </span>
            </p>
            <svg
              viewBox={`0 0 ${minutes} ${H}`}
              preserveAspectRatio="none"
              role="img"
              aria-label={`${issuer}: ${accepted} tokens accepted and ${refused} refused in the last ${minutes} minutes`}
            >
              <line className="chart-axis" x1={0} x2={minutes} y1={H} y2={H} />
              {bars}
            </svg>
          </div>
        );
      })}
      <div className="chart-ticks" aria-hidden="true">
        <span>{minutes} min ago</span>
        <span>now</span>
      </div>
      <figcaption>
        <span className="key key-ok" aria-hidden="true" /> accepted{' '}
        <span className="key key-bad" aria-hidden="true" /> refused · busiest minute: {max}
      </figcaption>
    </figure>
  );
}
