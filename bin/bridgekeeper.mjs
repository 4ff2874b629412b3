#!/usr/bin/env node
// The `bridgekeeper` command (issue 11 §2). It never boots the server: it loads src/cli only. From a
// build (dist/cli, `npm run build`) it runs the compiled code. In a source checkout whose build is
// missing or older than src/cli, it compiles src/cli/*.ts with the project's swc (@swc/core, the
// compiler behind its swc register) into node_modules/.cache/bridgekeeper-cli, once per change, so
// that every later run starts as fast as built code (the register itself loads TypeScript: ~2 s).
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const sources = join(root, 'src', 'cli');
const built = join(root, 'dist', 'cli');

const mtime = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;

function compiledFromSource() {
  const cache = join(root, 'node_modules', '.cache', 'bridgekeeper-cli');
  mkdirSync(cache, { recursive: true });
  let swc;
  for (const file of readdirSync(sources)) {
    if (!file.endsWith('.ts') || file.endsWith('.spec.ts')) continue;
    const src = join(sources, file);
    const out = join(cache, file.replace(/\.ts$/, '.js'));
    if (mtime(out) >= mtime(src)) continue;
    swc ??= require('@swc/core');
    const { code } = swc.transformFileSync(src, {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
      sourceMaps: 'inline',
    });
    // Atomically: a concurrent first run never reads a half-written file.
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, out);
  }
  return join(cache, 'main.js');
}

const fromBuild =
  existsSync(join(built, 'main.js')) &&
  (!existsSync(sources) ||
    mtime(join(built, 'main.js')) >=
      Math.max(...readdirSync(sources).map((f) => mtime(join(sources, f)))));
require(fromBuild ? join(built, 'main.js') : compiledFromSource()).main();
