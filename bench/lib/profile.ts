import { readFileSync } from 'node:fs';

// Summarises a V8 .cpuprofile: self time per function and per package (node_modules package, a
// Bridgekeeper module under dist/src, Node core, V8 builtins, GC), in % of the profiled busy time.

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)') return '(gc)';
    if (functionName === '(idle)' || functionName === '(program)') return functionName;
    return '(v8 builtins / native)';
  }
  if (url.startsWith('node:')) return 'node core';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  // The built service (dist/<module>/…, or a copy such as bench/results/dist-before) or its sources.
  const src = /\/(?:dist[^/]*|src)\/([^/]+)/.exec(url);
  if (src) return `bridgekeeper ${src[1].replace(/\.js$/, '')}`;
  return url.replace(/^.*\//, '');
}

export interface ProfileSummary {
  /** Busy (non-idle) ms profiled. */
  busyMs: number;
  packages: { name: string; percent: number }[];
  functions: { name: string; pkg: string; percent: number }[];
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  // Samples taken inside the profile hook itself (starting and stopping the profiler) are not the
  // server's work: drop every node under it.
  const hook = new Set<number>();
  const mark = (n: ProfileNode, inHook: boolean) => {
    const h = inHook || n.callFrame.url.includes('cpu-profile-hook');
    if (h) hook.add(n.id);
    for (const c of n.children ?? []) mark(byId.get(c)!, h);
  };
  mark(p.nodes[0], false);
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++)
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const pkgs = new Map<string, number>();
  const fns = new Map<string, { pkg: string; us: number }>();
  let busy = 0;
  for (const [id, us] of self) {
    if (hook.has(id)) continue;
    const frame = byId.get(id)!.callFrame;
    const pkg = packageOf(frame);
    if (pkg === '(idle)') continue;
    busy += us;
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
    const file = frame.url.replace(/^.*\/(node_modules|dist)\//, '');
    const key = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    const f = fns.get(key) ?? { pkg, us: 0 };
    f.us += us;
    fns.set(key, f);
  }
  const pct = (us: number) => (busy > 0 ? (us / busy) * 100 : 0);
  return {
    busyMs: busy / 1000,
    packages: [...pkgs]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, percent: pct(us) })),
    functions: [...fns]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, top)
      .map(([name, f]) => ({ name, pkg: f.pkg, percent: pct(f.us) })),
  };
}

export function formatProfile(title: string, s: ProfileSummary, topPackages = 15): string {
  const lines = [
    `### ${title}`,
    '',
    `busy ${Math.round(s.busyMs)} ms profiled`,
    '',
    '| package | self % |',
    '|---|---:|',
    ...s.packages.slice(0, topPackages).map((p) => `| ${p.name} | ${p.percent.toFixed(1)} |`),
    '',
    '| function | package | self % |',
    '|---|---|---:|',
    ...s.functions.map(
      (f) => `| \`${f.name.replace(/\|/g, '\\|')}\` | ${f.pkg} | ${f.percent.toFixed(1)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** Coarser groups than packages, for comparing a scenario with the bare framework routes. */
export function groupOf(pkg: string): string {
  if (['node core', '(v8 builtins / native)', '(program)'].includes(pkg))
    return 'Node + V8 (HTTP, streams, promises, crypto)';
  if (pkg === '(gc)') return 'GC';
  if (/^(fastify|find-my-way|@fastify\/|secure-json-parse|toad-cache|avvio)/.test(pkg))
    return 'Fastify';
  if (/^(@nestjs\/|reflect-metadata|rxjs|tslib|iterare)/.test(pkg)) return 'NestJS';
  if (/^(@apollo\/|graphql|negotiator|whatwg-mimetype|@as-integrations|content-type)/.test(pkg))
    return 'Apollo + graphql-js';
  if (/^(pino|sonic-boom|@pinojs|quick-format|on-exit|safe-stable)/.test(pkg)) return 'pino';
  if (/^(prom-client|bintrees|tdigest|bridgekeeper metrics)/.test(pkg)) return 'metrics';
  if (/^(pg|typeorm|postgres-)/.test(pkg)) return 'pg + TypeORM';
  if (pkg.startsWith('bridgekeeper ')) return 'Bridgekeeper code';
  return pkg;
}

/** A markdown table: self time by group, one column per profile. */
export function formatGroups(profiles: { label: string; summary: ProfileSummary }[]): string {
  const rows = new Map<string, Map<string, number>>();
  for (const { label, summary } of profiles) {
    for (const p of summary.packages) {
      const g = groupOf(p.name);
      const row = rows.get(g) ?? new Map<string, number>();
      row.set(label, (row.get(label) ?? 0) + p.percent);
      rows.set(g, row);
    }
  }
  const labels = profiles.map((p) => p.label);
  const total = (g: string) => [...rows.get(g)!.values()].reduce((a, b) => a + b, 0);
  const order = [...rows.keys()].sort((a, b) => total(b) - total(a));
  return [
    `| self time, % of busy | ${labels.join(' | ')} |`,
    `|---|${labels.map(() => '---:').join('|')}|`,
    ...order.map(
      (g) => `| ${g} | ${labels.map((l) => (rows.get(g)!.get(l) ?? 0).toFixed(1)).join(' | ')} |`,
    ),
  ].join('\n');
}
