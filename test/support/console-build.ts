import { join } from 'node:path';

interface ConsoleBuild {
  consoleIsStale(): boolean;
  buildConsole(options?: { stdio?: 'inherit' | 'pipe' | 'ignore' }): Promise<void>;
}

/** Builds console/dist (scripts/console-build.mjs) when missing or older than console's sources. */
export async function ensureConsoleBuilt(): Promise<void> {
  const script = join(__dirname, '..', '..', 'scripts', 'console-build.mjs');
  // A real dynamic import (not rewritten to require by the TypeScript transform): the script is ESM.
  const load = new Function('s', 'return import(s)') as (s: string) => Promise<ConsoleBuild>;
  const build = await load(script);
  if (build.consoleIsStale()) await build.buildConsole({ stdio: 'inherit' });
}
