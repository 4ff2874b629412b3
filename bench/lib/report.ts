export type Target =
  | { kind: 'ratio'; min: number }
  | { kind: 'actors/s'; min: number }
  | { kind: 'req/s'; min: number };

export interface Row {
  variant: string;
  scenario: string;
  /** Successful answers per second: the median round. */
  rps: number;
  p50: number;
  p99: number;
  /** Ratio to the ceiling slice measured right before, per round, and their median. */
  ratios: number[];
  ratio: number;
  /** Server CPU time per request, µs (median round); its whole process tree (PostgreSQL, Redis). */
  cpuUs: number;
  /**
   * The lowest per-round CPU µs/request: other work on the machine only ever adds to it (cache misses,
   * preemption), so on a busy machine this is the better estimate of the cost of a request.
   */
  cpuUsMin: number;
  /** Of `cpuUs`, the server's own process (median round): the rest is PostgreSQL / Redis. */
  nodeCpuUs?: number;
  total: number;
  /** Answers >= 400, socket errors, timeouts. */
  failed: number;
  /** % of one core: the server's process tree, wrk, and everything else on the machine meanwhile. */
  serverCpu: number;
  loadCpu: number;
  otherCpu: number;
  target?: Target;
  actorsCreated?: number;
  actorsPerSecond?: number;
  /** Password logins per second run meanwhile (scenario 10). */
  loginsPerSecond?: number;
  /** Why this scenario's numbers cannot be trusted (too many failures, actors not created…). */
  problem?: string;
  /** A remark printed under the table (e.g. "ran out of tokens: a lower bound"). */
  note?: string;
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

export const fixed = (n: number | undefined, digits = 0): string =>
  n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits);

function targetText(row: Row): string {
  if (!row.target) return '';
  if (row.target.kind === 'ratio') return `≥ ${row.target.min.toFixed(2)}×`;
  if (row.target.kind === 'req/s') return `≥ ${row.target.min} req/s`;
  return `≥ ${row.target.min} actors/s`;
}

/** A markdown table (also readable as plain text). */
export function formatTable(rows: Row[]): string {
  const header = [
    'variant',
    'scenario',
    'req/s',
    '× ceiling',
    'per round',
    'server CPU µs/req',
    'min µs/req',
    'of which Node µs',
    'p50 ms',
    'p99 ms',
    'failed',
    'target',
    'verdict',
    'srv/wrk/other CPU %',
  ];
  const body = rows.map((r) => [
    r.variant,
    r.scenario,
    r.actorsPerSecond !== undefined ? `${fixed(r.actorsPerSecond)} actors/s` : fixed(r.rps),
    fixed(r.ratio, 2),
    r.ratios.map((x) => fixed(x, 2)).join(' '),
    fixed(r.cpuUs),
    fixed(r.cpuUsMin),
    fixed(r.nodeCpuUs),
    fixed(r.p50, 1),
    fixed(r.p99, 1),
    String(r.failed),
    targetText(r),
    r.verdict,
    `${fixed(r.serverCpu)}/${fixed(r.loadCpu)}/${fixed(r.otherCpu)}`,
  ]);
  const right = new Set([2, 3, 5, 6, 7, 8, 9, 10, 13]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}
