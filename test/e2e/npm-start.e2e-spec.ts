import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../support/ports';

// Issue 12 bug 6: `npm start` ends cleanly on SIGTERM/SIGINT sent to the pid a process manager sees (npm's),
// stopping the server and its embedded PostgreSQL; a second start does not rebuild unchanged sources.
const ROOT = join(__dirname, '..', '..');

/** Every live descendant of `pid` (from /proc), so a leftover node or postgres is seen. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const out: number[] = [];
  const visit = (p: number) =>
    (children.get(p) ?? []).forEach((c) => {
      out.push(c);
      visit(c);
    });
  visit(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    // A zombie is not running any more.
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

interface Started {
  npm: ChildProcess;
  output: () => string;
  tree: number[];
  exited: Promise<number | null>;
}

async function npmStart(dataDir: string, port: number): Promise<Started> {
  // detached: its own process group, so a failing test can still clean everything up.
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      // Not the test run's own BRIDGEKEEPER_* variables: an unknown one stops the server.
      ...Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('BRIDGEKEEPER_')),
      ),
      BRIDGEKEEPER_DATA_DIR: dataDir,
      BRIDGEKEEPER_HTTP_PORT: String(port),
      BRIDGEKEEPER_LOG_FORMAT: 'json',
    },
  });
  let out = '';
  npm.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  npm.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  // The first start may build the project (tens of seconds on a busy machine).
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not listen:\n${out}`)), 240_000);
    const check = () => {
      if (!out.includes('Bridgekeeper is listening')) return;
      clearTimeout(timer);
      resolve();
    };
    npm.stdout!.on('data', check);
    npm.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${out}`));
    });
  });
  return { npm, output: () => out, tree: descendants(npm.pid!), exited };
}

describe('npm start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bk-npm-start-'));
  const groups: number[] = [];

  afterAll(() => {
    for (const g of groups) {
      try {
        process.kill(-g, 'SIGKILL');
      } catch {
        // Already gone: the expected case.
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each([['SIGTERM'], ['SIGINT']] as const)(
    'stops the server and its embedded PostgreSQL on %s to npm, and leaves no process behind',
    async (signal) => {
      const port = await freePort();
      const started = await npmStart(dataDir, port);
      groups.push(started.npm.pid!);
      expect(await portOpen(port)).toBe(true);
      // One start-up line says what the node is doing, and the missing issuer is pointed out.
      expect(started.output()).toMatch(
        new RegExp(
          `Bridgekeeper is listening on http://127\\.0\\.0\\.1:${port} \\(public URL http://127\\.0\\.0\\.1:${port}\\); database: embedded PostgreSQL, data in ${dataDir}/postgres; cache: in-process`,
        ),
      );
      expect(started.output()).toContain(
        'no trusted issuer: tokens of external identity providers are refused',
      );
      // No administrator yet: the one-time setup link, in a box (issue 9).
      expect(started.output()).toMatch(
        new RegExp(`http://127\\.0\\.0\\.1:${port}/setup/[A-Za-z0-9_-]{43}`),
      );
      expect(started.output()).toContain('to create the first administrator');
      // The tree under npm: the server (node) and PostgreSQL with its workers.
      const names = started.tree.map((p) => {
        try {
          return readFileSync(`/proc/${p}/comm`, 'utf8').trim();
        } catch {
          return '';
        }
      });
      expect(names).toContain('node');
      expect(names).toContain('postgres');

      started.npm.kill(signal);
      await waitFor(
        'npm to exit',
        async () => started.npm.exitCode !== null || started.npm.signalCode !== null,
        30_000,
      );
      await waitFor(
        'every process of the tree to end',
        async () => started.tree.every((p) => !alive(p)),
        30_000,
      );
      expect(await portOpen(port)).toBe(false);
      expect(started.output()).toContain('embedded PostgreSQL stopped');
      // Started once already: the sources did not change, nothing is rebuilt.
      if (signal === 'SIGINT') expect(started.output()).not.toContain('building');
    },
    300_000,
  );
});
