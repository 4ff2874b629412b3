import { join } from 'node:path';
import { type Child, cleanEnv, start, waitUntil } from './processes';

const SERVERS = join(__dirname, '..', 'servers');

/**
 * Starts `servers/static-json.ts` (or another server of that folder that reports its port the same
 * way, e.g. `bare-nest.ts`) in its own (pinned) process, answering `body` on every request.
 */
export async function startStaticJson(
  name: string,
  body: string,
  script = 'static-json.ts',
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<{ child: Child; url: string }> {
  let port: number | undefined;
  const args = [...nodeArgs, '-r', '@swc-node/register', join(SERVERS, script)];
  const child = start(name, process.execPath, args, {
    env: cleanEnv({ BENCH_BODY: body, ...env }),
    cwd: join(__dirname, '..', '..'),
    onStdoutLine: (line) => {
      const parsed = JSON.parse(line) as { port?: number };
      if (typeof parsed.port === 'number') port = parsed.port;
    },
  });
  await waitUntil(child, 'its port', () => Promise.resolve(port !== undefined), 60_000);
  return { child, url: `http://127.0.0.1:${port}` };
}
