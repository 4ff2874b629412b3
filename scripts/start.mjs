// `npm start`: builds only when the sources changed since the last build, then runs the server IN THIS
// PROCESS (no child), so SIGTERM/SIGINT sent to the pid a process manager sees reach the server's own
// handlers, which stop it and its embedded PostgreSQL. package.json runs it with `exec`, so npm's
// shell replaces itself with this process, and npm forwards the signals it receives to it.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildConsole, consoleIsStale } from './console-build.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const stamp = join(root, 'dist', '.build-stamp');
const inputs = [
  'src',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'nest-cli.json',
];

/** The newest modification time under the build inputs (directories too: a deleted file counts). */
function newestInput() {
  let newest = 0;
  const visit = (path) => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return;
    newest = Math.max(newest, st.mtimeMs);
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  for (const input of inputs) visit(join(root, input));
  return newest;
}

function upToDate() {
  const built = statSync(stamp, { throwIfNoEntry: false });
  return (
    built !== undefined &&
    existsSync(join(root, 'dist', 'main.js')) &&
    built.mtimeMs >= newestInput()
  );
}

/** `nest build`, stopped (and this process with it) by SIGINT/SIGTERM. */
function build() {
  return new Promise((resolve) => {
    process.stdout.write(
      'bridgekeeper: sources changed since the last build: building (nest build)\n',
    );
    const startedAt = Date.now();
    const nest = createRequire(import.meta.url).resolve('@nestjs/cli/bin/nest.js');
    const child = spawn(process.execPath, [nest, 'build'], { cwd: root, stdio: 'inherit' });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.removeListener('SIGINT', forward);
      process.removeListener('SIGTERM', forward);
      if (signal) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
      if (code !== 0) {
        process.stderr.write('bridgekeeper: the build failed (see above)\n');
        process.exit(code ?? 1);
      }
      // The stamp records the sources as they were when the build started.
      writeFileSync(stamp, `${new Date(startedAt).toISOString()}\n`);
      utimesSync(stamp, startedAt / 1000, startedAt / 1000);
      resolve();
    });
  });
}

if (!upToDate()) await build();
// The admin console (console/dist) is built when missing or older than console/src. A failed console
// build does not stop the server: /console then answers 503 saying to build it.
if (consoleIsStale()) {
  process.stdout.write('bridgekeeper: building the admin console (console/dist)\n');
  await buildConsole().catch((err) => process.stderr.write(`bridgekeeper: ${err.message}\n`));
}
createRequire(import.meta.url)(join(root, 'dist', 'main.js'));
