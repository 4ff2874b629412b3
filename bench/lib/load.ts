import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cpuSecondsOf,
  LOAD_CORE,
  machineBusySeconds,
  pinned,
  tempDir,
  treeCpuSeconds,
} from './processes';

// Load comes from `wrk` (C, epoll: it saturates a bare node:http server on one core, which autocannon
// in a Node process does not), pinned to the load core, one thread, CONNECTIONS keep-alive connections.
// Every request shape is a generated Lua script: fixed requests are built once by wrk; rotating headers
// or bodies (distinct tokens, first logins, token exchanges) are read from a file, one per line, and
// sent in turn. `done` prints one JSON line with the totals and latency percentiles.

/** What to send: fixed, or with a header / body rotating over a list (shared by all connections). */
export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** A header whose value rotates over `values`, one per request, in order, wrapping around. */
  rotateHeader?: { name: string; values: string[] };
  /** Request bodies in turn, one per request (e.g. a different subject token each time). */
  rotateBody?: string[];
  /** Processes (roots of process trees) whose CPU time is the server's. */
  serverPids: number[];
}

export interface LoadRun {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  ok: number;
  /** Answers with status >= 400, socket errors and timeouts. */
  failed: number;
  seconds: number;
  /** Server CPU (its whole process tree) and load generator CPU, in % of one core; NaN if unknown. */
  serverCpu: number;
  loadCpu: number;
  /** Server CPU time per answered request, µs. */
  cpuPerRequestUs: number;
  /** Of which the server's own process (all its threads; not PostgreSQL or Redis), µs. */
  mainCpuPerRequestUs: number;
  /** CPU used by everything else on the machine meanwhile (other jobs skew the numbers), % of one core. */
  otherCpu: number;
}

export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WRK = process.env.BENCH_WRK ?? 'wrk';

const lua = (s: string) => JSON.stringify(s); // a JSON string is a valid Lua string literal here

/** The Lua script for one spec; rotating values go to files next to it (no size limit in Lua). */
export function wrkScript(spec: LoadSpec): string {
  const dir = tempDir('bk-bench-wrk-');
  const lines: string[] = [`wrk.method = ${lua(spec.method ?? 'GET')}`];
  for (const [k, v] of Object.entries(spec.headers ?? {}))
    lines.push(`wrk.headers[${lua(k)}] = ${lua(v)}`);
  if (spec.body !== undefined) lines.push(`wrk.body = ${lua(spec.body)}`);
  const list = (name: string, values: string[]) => {
    if (values.some((v) => v.includes('\n'))) throw new Error(`${name}: a value has a newline`);
    const file = join(dir, `${name}.txt`);
    writeFileSync(file, values.join('\n') + '\n');
    lines.push(
      `local ${name} = {}`,
      `for line in io.lines(${lua(file)}) do ${name}[#${name} + 1] = line end`,
    );
  };
  if (spec.rotateHeader || spec.rotateBody) {
    if (spec.rotateHeader) list('hv', spec.rotateHeader.values);
    if (spec.rotateBody) list('bv', spec.rotateBody);
    const n = spec.rotateHeader ? '#hv' : '#bv';
    lines.push(
      'local i = 0',
      'request = function()',
      `  i = i % ${n} + 1`,
      ...(spec.rotateHeader ? [`  wrk.headers[${lua(spec.rotateHeader.name)}] = hv[i]`] : []),
      `  return wrk.format(nil, ${lua(spec.path)}, nil, ${spec.rotateBody ? 'bv[i]' : 'nil'})`,
      'end',
    );
  }
  lines.push(
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format(\'\\nBENCH {"duration":%d,"requests":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p99":%d}\\n\',',
    '    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,',
    '    latency:percentile(50), latency:percentile(99)))',
    'end',
  );
  const file = join(dir, 'script.lua');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

interface WrkSummary {
  duration: number;
  requests: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50: number;
  p99: number;
}

/** wrk's totals, and the CPU seconds it used (sampled from /proc until it exits). */
function wrk(
  url: string,
  script: string,
  seconds: number,
): Promise<WrkSummary & { cpuSeconds: number }> {
  const args = [
    '-t1',
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    '--timeout',
    '10s',
    '--latency',
    '-s',
    script,
    url,
  ];
  const [cmd, argv] = pinned ? ['taskset', ['-c', LOAD_CORE, WRK, ...args]] : [WRK, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let cpuSeconds = 0;
    const sample = () => {
      // taskset execs wrk in place: the pid is wrk's.
      const s = child.pid === undefined ? undefined : cpuSecondsOf(child.pid);
      if (s !== undefined) cpuSeconds = s;
    };
    const timer = setInterval(sample, 200);
    child.stdout.once('end', sample);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(timer);
      const line = /^BENCH (.+)$/m.exec(out)?.[1];
      if (code !== 0 || !line) reject(new Error(`wrk exited ${code}:\n${out}`));
      else resolve({ ...(JSON.parse(line) as WrkSummary), cpuSeconds });
    });
  });
}

/** Runs `spec` for `seconds` (with a prepared script, or one generated now). */
export async function runLoad(
  spec: LoadSpec,
  seconds: number,
  script = wrkScript(spec),
): Promise<LoadRun> {
  const busy0 = machineBusySeconds();
  const cpu0 = treeCpuSeconds(spec.serverPids);
  const main0 = cpuSecondsOf(spec.serverPids[0]);
  const w = await wrk(spec.url + spec.path, script, seconds);
  const cpu1 = treeCpuSeconds(spec.serverPids);
  const main1 = cpuSecondsOf(spec.serverPids[0]);
  const busy1 = machineBusySeconds();
  const wall = w.duration / 1e6;
  const serverSeconds = cpu0 === undefined || cpu1 === undefined ? NaN : cpu1 - cpu0;
  const failed = w.status + w.connect + w.read + w.write + w.timeout;
  const ok = Math.max(0, w.requests - w.status);
  const percent = (cpuSeconds: number) => (cpuSeconds / wall) * 100;
  return {
    rps: ok / wall,
    p50: w.p50 / 1000,
    p99: w.p99 / 1000,
    total: w.requests,
    ok,
    failed,
    seconds: wall,
    serverCpu: percent(serverSeconds),
    loadCpu: percent(w.cpuSeconds),
    cpuPerRequestUs: (serverSeconds * 1e6) / Math.max(1, w.requests),
    mainCpuPerRequestUs:
      main0 === undefined || main1 === undefined
        ? NaN
        : ((main1 - main0) * 1e6) / Math.max(1, w.requests),
    otherCpu:
      busy0 === undefined || busy1 === undefined
        ? NaN
        : Math.max(0, percent(busy1 - busy0 - serverSeconds - w.cpuSeconds)),
  };
}
