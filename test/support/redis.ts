import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { freePort, waitFor } from './ports';

export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Finds `redis-server`, installing Debian's package when it is missing and we are allowed to (root). */
export function ensureRedisServer(): string {
  return ensureDebianBinary('redis-server', 'redis-server', 'the tests');
}

/**
 * Finds `bin` on the PATH (or /usr/bin, /usr/sbin), installing Debian's `pkg` when it is missing and
 * we are root with apt-get; throws with the install command otherwise.
 */
export function ensureDebianBinary(bin: string, pkg: string, who: string): string {
  const found = which(bin);
  if (found) return found;
  if (process.getuid?.() === 0 && which('apt-get')) {
    process.stderr.write(`${bin} not found: installing Debian package ${pkg}\n`);
    const install = () =>
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], {
        stdio: 'ignore',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    try {
      install();
    } catch {
      execFileSync('apt-get', ['update'], { stdio: 'ignore' });
      install();
    }
    const installed = which(bin);
    if (installed) return installed;
  }
  throw new Error(`${bin} is required by ${who}: install it (Debian: apt-get install ${pkg})`);
}

/** `bin` on the PATH (or /usr/bin, /usr/sbin), if there. */
export function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    const candidate = `${dir}/${bin}`;
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Starts a throw-away redis-server on a free loopback port, without persistence. */
export async function startRedis(options: { port?: number } = {}): Promise<RedisServer> {
  const bin = ensureRedisServer();
  const port = options.port ?? (await freePort());
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await waitFor(`redis-server on ${port}`, () => ping(port), 15_000);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: child,
    stop: () => stopChild(child),
  };
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
  });
}
