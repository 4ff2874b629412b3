import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

// Child processes and temp dirs of one benchmark run, and their cleanup on every way out: normal end,
// error, Ctrl-C, SIGTERM. Every child runs in its own process group (so a Ctrl-C in the terminal reaches
// only the benchmark, which then stops the children in order) and is pinned to core 0 (the server core) when
// `taskset` exists; the benchmark itself and wrk run on core 1.

export const SERVER_CORE = '0';
export const LOAD_CORE = '1';
const STOP_GRACE_MS = 15_000;
const LOG_TAIL_BYTES = 16 * 1024;

export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  /** The last bytes of its stdout and stderr, for the error message when it dies or misbehaves. */
  tail(): string;
  /** Resolves with the exit code (or signal name) once it has exited. */
  exited: Promise<string>;
}

const children = new Set<Child>();
/** Process groups ever started: swept at the end for anything a child left behind when it died. */
const groups = new Set<number>();
const tempDirs: string[] = [];

function detectTaskset(): boolean {
  if (process.env.BENCH_NO_PIN !== undefined || availableParallelism() < 2) return false;
  try {
    execFileSync('taskset', ['-c', SERVER_CORE, 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const pinned = detectTaskset();

/** Moves every thread of this process (V8 and libuv pools included) to the load generator's core. */
export function pinSelf(): void {
  if (!pinned) return;
  execFileSync('taskset', ['-a', '-p', '-c', LOAD_CORE, String(process.pid)], { stdio: 'ignore' });
}

export function start(
  name: string,
  command: string,
  args: string[],
  options: {
    env?: Record<string, string>;
    cwd?: string;
    onStdoutLine?: (line: string) => void;
    /** Its stdout goes to this file (a server's log), not through a pipe into the benchmark. */
    stdoutFile?: string;
  } = {},
): Child {
  const [cmd, argv] = pinned ? ['taskset', ['-c', SERVER_CORE, command, ...args]] : [command, args];
  const out = options.stdoutFile ? openSync(options.stdoutFile, 'a') : 'pipe';
  const proc = spawn(cmd, argv, {
    env: options.env ?? cleanEnv(),
    cwd: options.cwd,
    detached: true,
    stdio: ['ignore', out, 'pipe'],
  });
  if (typeof out === 'number') closeSync(out);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-LOG_TAIL_BYTES);
  };
  let partial = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    keep(chunk);
    if (!options.onStdoutLine) return;
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) options.onStdoutLine(line);
  });
  proc.stderr!.on('data', keep);
  const exited = new Promise<string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(signal ?? String(code)));
    proc.once('error', (err) => resolve(`spawn error: ${err.message}`));
  });
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const stdoutFile = options.stdoutFile;
  const child: Child = {
    name,
    process: proc,
    pid: proc.pid,
    tail: () =>
      stdoutFile ? readFileSync(stdoutFile, 'utf8').slice(-LOG_TAIL_BYTES) + tail : tail,
    exited,
  };
  children.add(child);
  groups.add(child.pid);
  void exited.then(() => children.delete(child));
  return child;
}

/** The environment for children: this one without any BRIDGEKEEPER_* (the service rejects unknown keys). */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('BRIDGEKEEPER_') && !k.startsWith('BENCH_')) env[k] = v;
  }
  return { ...env, ...extra };
}

/** SIGTERM, then after a grace period SIGKILL to the child's whole process group. */
export async function stop(child: Child): Promise<void> {
  if (!children.has(child)) return;
  signalGroup(child, 'SIGTERM', false);
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL', true), STOP_GRACE_MS);
  await child.exited;
  clearTimeout(timer);
  // Whatever it left behind in its group (e.g. PostgreSQL if it did not stop it).
  signalGroup(child, 'SIGKILL', true);
}

function signalGroup(child: Child, signal: NodeJS.Signals, wholeGroup: boolean): void {
  kill(wholeGroup ? -child.pid : child.pid, signal);
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

let cleaning: Promise<void> | undefined;

/** Stops every child (in reverse start order) and removes every temp dir. Safe to call repeatedly. */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const child of [...children].reverse()) await stop(child);
    for (const group of groups) kill(-group, 'SIGKILL');
    groups.clear();
    for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
}

/** Last resort when the process is leaving synchronously: kill every group, remove temp dirs. */
function cleanupNow(): void {
  for (const group of groups) kill(-group, 'SIGKILL');
  groups.clear();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Runs `main`, cleaning up after it whatever happens; exit code 1 on error, 130/143 on signals. */
export function runWithCleanup(main: () => Promise<number>): void {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    if (interrupted) {
      cleanupNow();
      process.exit(code);
    }
    interrupted = true;
    console.error(`\n${signal}: stopping servers and removing temp dirs (again to force)…`);
    void cleanup().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  process.on('SIGHUP', () => onSignal('SIGHUP', 129));
  process.on('exit', cleanupNow);
  main()
    .then(async (code) => {
      await cleanup();
      process.exit(code);
    })
    .catch(async (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      await cleanup();
      process.exit(1);
    });
}

/** A port that was free on 127.0.0.1 a moment ago (for children that must be told their port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        address && typeof address === 'object'
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Polls `probe` until it resolves true; fails early with the child's output if the child exits. */
export async function waitUntil(
  child: Child,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 180_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: string | undefined;
  void child.exited.then((code) => (exit = code));
  for (;;) {
    if (exit !== undefined) {
      throw new Error(`${child.name} exited (${exit}) before ${what}:\n${child.tail()}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${child.name}: timed out waiting for ${what}:\n${child.tail()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---------------------------------------------------------------- CPU accounting (Linux /proc)

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  ppid: number;
  cpuSeconds: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces and parentheses.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpuSeconds: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds used so far by the processes rooted at `pids` and all their descendants (e.g. Bridgekeeper
 * and its PostgreSQL backends), or undefined where /proc is not available.
 */
/** CPU seconds (user + system) used so far by one process, or undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  return readStat(pid)?.cpuSeconds;
}

/** Resident memory of one process (VmRSS), MiB, or NaN. */
export function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export function treeCpuSeconds(pids: number[]): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return undefined;
  }
  const stats = new Map<number, ProcStat>();
  for (const e of entries) {
    const st = readStat(Number(e));
    if (st) stats.set(Number(e), st);
  }
  const byParent = new Map<number, number[]>();
  for (const [pid, st] of stats) {
    const list = byParent.get(st.ppid) ?? [];
    list.push(pid);
    byParent.set(st.ppid, list);
  }
  let total = 0;
  const queue = [...pids];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    total += stats.get(pid)?.cpuSeconds ?? 0;
    queue.push(...(byParent.get(pid) ?? []));
  }
  return total;
}

/** CPU seconds all cores have spent busy since boot (everything on the machine), from /proc/stat. */
export function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    // cpu user nice system idle iowait irq softirq steal …
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of one Node process split by thread: its main thread (the event loop: tid = pid) and all
 * its other threads (the libuv worker pool, V8's GC and compiler threads, worker_threads).
 */
export function threadCpuSeconds(pid: number): { main: number; others: number } | undefined {
  try {
    let main = 0;
    let others = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
      if (Number(tid) === pid) main = seconds;
      else others += seconds;
    }
    return { main, others };
  } catch {
    return undefined;
  }
}
