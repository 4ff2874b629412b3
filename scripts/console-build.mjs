// Builds the admin console (console/ → console/dist) with Vite, in production mode. Used by
// `npm run build`, by `npm start` (scripts/start.mjs, when console/dist is missing or older than its
// sources) and by the e2e tests' global setup (test/jest-global-setup.ts), so a fresh clone serves it.
import { spawn } from 'node:child_process';
import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
export const consoleDir = join(root, 'console');
const stamp = join(consoleDir, 'dist', '.build-stamp');
const inputs = ['src', 'index.html', 'vite.config.mts', 'tsconfig.json', 'public'];

function newest(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  let time = st.mtimeMs;
  if (st.isDirectory())
    for (const name of readdirSync(path)) time = Math.max(time, newest(join(path, name)));
  return time;
}

/** Whether console/dist is missing or older than one of the console's sources. */
export function consoleIsStale() {
  const built = statSync(stamp, { throwIfNoEntry: false });
  if (!built) return true;
  const sources = Math.max(...inputs.map((i) => newest(join(consoleDir, i))));
  return built.mtimeMs < sources;
}

/** `vite build` of the console; resolves when done, rejects when the build fails. */
export function buildConsole({ stdio = 'inherit' } = {}) {
  return new Promise((resolve, reject) => {
    const startedAt = new Date();
    const vite = join(
      dirname(createRequire(import.meta.url).resolve('vite/package.json')),
      'bin',
      'vite.js',
    );
    const child = spawn(
      process.execPath,
      [vite, 'build', '--config', join(consoleDir, 'vite.config.mts'), '--logLevel', 'warn'],
      {
        cwd: root,
        stdio,
        env: { ...process.env, NODE_ENV: 'production', VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
      },
    );
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.removeListener('SIGINT', forward);
      process.removeListener('SIGTERM', forward);
      if (code !== 0) {
        reject(new Error(`the console build failed (${signal ?? `exit code ${code}`})`));
        return;
      }
      // The stamp records the sources as they were when the build started.
      writeFileSync(stamp, `${startedAt.toISOString()}\n`);
      utimesSync(stamp, startedAt, startedAt);
      resolve();
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const onlyWhenStale = process.argv.includes('--if-stale');
  if (onlyWhenStale && !consoleIsStale()) {
    process.stdout.write('console: up to date\n');
  } else {
    buildConsole().then(
      () => process.stdout.write(`console: built into ${join(consoleDir, 'dist')}\n`),
      (err) => {
        process.stderr.write(`${err.message}\n`);
        process.exit(1);
      },
    );
  }
}
