import { Writable } from 'node:stream';
import { createLogger } from 'src/common/logging/logger';
import { createAccessLog } from 'src/metrics/access-log';

function capture(level = 'info') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

/** Access lines are written at the end of the event-loop turn. */
const turn = () => new Promise((r) => setImmediate(r));

const entry = { reqId: 'r-1', method: 'GET', route: '/oauth2/userinfo', status: 200, ms: 1.5 };

describe('createAccessLog', () => {
  it('writes the line pino would write for the same fields', async () => {
    const { logger, lines } = capture();
    createAccessLog(logger, { sampleEvery: 1 })(entry);
    await turn();
    logger.info(entry, 'request');
    const [ours, pinos] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(ours)).toEqual(Object.keys(pinos));
    expect({ ...ours, time: 0 }).toEqual({ ...pinos, time: 0 });
    expect(new Date(ours.time as string).toISOString()).toBe(ours.time);
  });

  it('escapes what it writes, samples successes, always writes errors, honours the level', async () => {
    const { logger, lines } = capture();
    const log = createAccessLog(logger, { sampleEvery: 3 });
    for (let i = 0; i < 6; i++) log(entry);
    log({ ...entry, status: 401, route: 'a"b' });
    await turn();
    expect(lines.map((l) => (JSON.parse(l) as { status: number }).status)).toEqual([200, 200, 401]);
    expect((JSON.parse(lines[2]) as { route: string }).route).toBe('a"b');

    const errorsOnly = capture();
    const e = createAccessLog(errorsOnly.logger, { sampleEvery: 0 });
    e(entry);
    e({ ...entry, status: 500 });
    await turn();
    expect(errorsOnly.lines).toHaveLength(1);

    const quiet = capture('warn');
    createAccessLog(quiet.logger, { sampleEvery: 1 })({ ...entry, status: 500 });
    await turn();
    expect(quiet.lines).toHaveLength(0);
  });
});
