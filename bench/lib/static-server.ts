import { join } from 'node:path';
import { type Child, cleanEnv, start, waitUntil } from './processes';

const SCRIPT = join(__dirname, '..', 'servers', 'static-json.ts');

/** Starts `servers/static-json.ts` in its own (pinned) process, answering `body` on every request. */
export async function startStaticJson(
  name: string,
  body: string,
): Promise<{ child: Child; url: string }> {
  let port: number | undefined;
  const child = start(name, process.execPath, ['-r', '@swc-node/register', SCRIPT], {
    env: cleanEnv({ BENCH_BODY: body }),
    cwd: join(__dirname, '..', '..'),
    onStdoutLine: (line) => {
      const parsed = JSON.parse(line) as { port?: number };
      if (typeof parsed.port === 'number') port = parsed.port;
    },
  });
  await waitUntil(child, 'its port', () => Promise.resolve(port !== undefined), 60_000);
  return { child, url: `http://127.0.0.1:${port}` };
}
