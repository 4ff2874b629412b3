export type Target =
  | { kind: 'ratio'; min: number }
  | { kind: 'actors/s'; min: number }
  | { kind: 'req/s'; min: number };

export interface Row {
  variant: string;
  scenario: string;
  /** Successful answers per second: the median slice. */
  rps: number;
  p50: number;
  p99: number;
  /** The ceiling measured right before this scenario's slices (median), and the median paired ratio. */
  ceilingRps: number;
  ratio: number;
  total: number;
  /** Non-2xx, errors, timeouts and unexpected bodies. */
  failed: number;
  statusCodes: Record<string, number>;
  /** % of one core: the server's process tree (with PostgreSQL, Redis), and the load generator. */
  serverCpu: number;
  loadCpu: number;
  /** % of one core used by other processes on the machine meanwhile: high means a skewed run. */
  otherCpu: number;
  target?: Target;
  actorsCreated?: number;
  actorsPerSecond?: number;
  /** Why this scenario's numbers cannot be trusted (too many failures, actors not created…). */
  problem?: string;
  verdict: 'PASS' | 'BELOW' | 'FAIL' | '';
  slices: number[];
}

export function verdictOf(row: Row): Row['verdict'] {
  if (row.problem) return 'FAIL';
  if (!row.target) return '';
  const value =
    row.target.kind === 'ratio'
      ? row.ratio
      : row.target.kind === 'req/s'
        ? row.rps
        : row.actorsPerSecond;
  return value !== undefined && value >= row.target.min ? 'PASS' : 'BELOW';
}

const fixed = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits);

function targetText(row: Row): string {
  if (!row.target) return '';
  if (row.target.kind === 'ratio') return `≥ ${row.target.min.toFixed(2)}×`;
  if (row.target.kind === 'req/s') return `≥ ${row.target.min} req/s`;
  return `${fixed(row.actorsPerSecond)} actors/s ≥ ${row.target.min}`;
}

/** A plain aligned text table (numbers right-aligned). */
export function formatTable(rows: Row[]): string {
  const header = [
    'variant',
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    '× ceiling',
    'non-2xx',
    'target',
    'verdict',
    'srv CPU %',
    'gen CPU %',
    'other CPU %',
  ];
  const body = rows.map((r) => [
    r.variant,
    r.scenario,
    fixed(r.rps),
    fixed(r.p50),
    fixed(r.p99),
    fixed(r.ratio, 2),
    String(r.failed),
    targetText(r),
    r.verdict,
    fixed(r.serverCpu),
    fixed(r.loadCpu),
    fixed(r.otherCpu),
  ]);
  const left = new Set([0, 1, 7, 8]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
