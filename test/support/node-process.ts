import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envNameOf } from '../../src/config/config.definition';
import { nodeProperties, type StartOptions } from './bridgekeeper';
import { freePort } from './ports';

const ROOT = join(__dirname, '..', '..');

/** A Bridgekeeper node as its own process (`src/main.ts`), for signals and SIGKILL. */
export interface NodeProcess {
  name: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** stdout and stderr lines so far (JSON log lines). */
  logs: string[];
  /** Resolves with the exit code (or the signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves when it has ended. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface NodeProcessOptions extends StartOptions {
  databaseUrl: string;
  name?: string;
  /** A fixed port (to restart a node where the balancer expects it). */
  port?: number;
  /** Keep this data directory (a restart of the same node); default: a new temporary one. */
  dataDir?: string;
  /** How long to wait for `/health/ready` to answer 200 (default 90 s: cold swc compile on a busy box). */
  readyTimeoutMs?: number;
}

/**
 * Starts `node -r @swc-node/register src/main.ts` with its configuration in `BRIDGEKEEPER_*` variables
 * (none inherited from this process) and waits until `/health/ready` answers 200 (or `/health/live` when
 * `waitFor: 'live'`). On a failed start the process is stopped and the error carries its last lines.
 */
export async function startNodeProcess(
  options: NodeProcessOptions & { waitFor?: 'ready' | 'live' },
): Promise<NodeProcess> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'bk-node-'));
  const props = nodeProperties(options, { port, databaseUrl: options.databaseUrl, dataDir });
  const env: Record<string, string> = Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => !e[0].startsWith('BRIDGEKEEPER_') && e[1] !== undefined,
    ),
  );
  for (const [key, value] of Object.entries({
    'bridgekeeper.log.level': 'info',
    'bridgekeeper.log.format': 'json',
    ...props,
  }))
    env[envNameOf(key)] = value;
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const collect = (chunk: Buffer) => {
    logs.push(...chunk.toString().split('\n').filter(Boolean));
    if (logs.length > 5000) logs.splice(0, logs.length - 5000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let ended = false;
  void exited.then(() => {
    ended = true;
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  const node: NodeProcess = {
    name: options.name ?? `node:${port}`,
    url,
    port,
    child,
    logs,
    exited,
    signal: (signal) => {
      if (!ended) child.kill(signal);
    },
    stop: async (timeoutMs = 20_000) => {
      if (ended) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
  const path = options.waitFor === 'live' ? '/health/live' : '/health/ready';
  try {
    // Not `waitFor`: a process that has exited is a failed start at once, not after the timeout.
    const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
    for (;;) {
      if (ended) throw new Error('it exited');
      const status = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(2000) })
        .then((r) => r.status)
        .catch(() => 0);
      if (status === 200) break;
      if (Date.now() > deadline) throw new Error(`no 200 from ${path} in time`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await node.stop(2000);
    throw new Error(
      `${node.name} did not start (${(err as Error).message}):\n${logs.slice(-15).join('\n')}`,
    );
  }
  return node;
}
