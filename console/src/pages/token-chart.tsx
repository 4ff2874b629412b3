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

const W = 600;
const ROW = 56;
const LABEL = 16;

/**
 * One row per issuer: a bar per minute of the last `minutes` (empty minutes included), accepted
 * stacked under refused, scaled to the busiest minute of all issuers. Plain SVG; the table next to it
 * carries the same numbers for screen readers.
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
  const barW = W / minutes;
  const barH = ROW - LABEL - 4;
  const height = issuers.length * ROW + 14;
  const accepted = buckets.filter((b) => b.outcome === 'ACCEPTED').reduce((n, b) => n + b.count, 0);
  const refused = buckets.filter((b) => b.outcome === 'REFUSED').reduce((n, b) => n + b.count, 0);
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${W} ${height}`}
        role="img"
        aria-label={`Token validations per minute over the last ${minutes} minutes: ${accepted} accepted, ${refused} refused`}
        preserveAspectRatio="none"
      >
        {issuers.map((issuer, row) => {
          const top = row * ROW;
          const bars = [];
          for (let m = start; m <= end; m++) {
            const c = cells.get(`${issuer}\u0000${m}`);
            if (!c) continue;
            const x = (m - start) * barW;
            const hA = (c.accepted / max) * barH;
            const hR = (c.refused / max) * barH;
            const base = top + LABEL + barH;
            if (hA > 0)
              bars.push(
                <rect
                  key={`a${m}`}
                  className="bar-ok"
                  x={x}
                  y={base - hA}
                  width={barW - 1}
                  height={hA}
                >
                  <title>{`${c.accepted} accepted`}</title>
                </rect>,
              );
            if (hR > 0)
              bars.push(
                <rect
                  key={`r${m}`}
                  className="bar-bad"
                  x={x}
                  y={base - hA - hR}
                  width={barW - 1}
                  height={hR}
                >
                  <title>{`${c.refused} refused`}</title>
                </rect>,
              );
          }
          return (
            <g key={issuer}>
              <text className="chart-label" x={0} y={top + 12}>
                {issuer}
              </text>
              <line
                className="chart-axis"
                x1={0}
                x2={W}
                y1={top + LABEL + barH}
                y2={top + LABEL + barH}
              />
              {bars}
            </g>
          );
        })}
        <text className="chart-tick" x={0} y={height - 2}>
          {minutes} min ago
        </text>
        <text className="chart-tick" x={W} y={height - 2} textAnchor="end">
          now
        </text>
      </svg>
      <figcaption>
        <span className="key key-ok" aria-hidden="true" /> accepted{' '}
        <span className="key key-bad" aria-hidden="true" /> refused · busiest minute: {max}
      </figcaption>
    </figure>
  );
}
