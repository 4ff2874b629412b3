// Preloaded into a server under test (`node -r bench/servers/cpu-profile-hook.js dist/main.js`) when
// the benchmark profiles: SIGUSR2 starts the V8 CPU profiler in-process, the next SIGUSR2 stops it and
// writes the profile to $BENCH_PROFILE_DIR/<n>.cpuprofile, then `<n>.done`. One server serves every
// scenario, so each scenario gets its own profile without a restart.
/* eslint-disable @typescript-eslint/no-require-imports -- preloaded with -r into the built server: plain CommonJS */
'use strict';
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  let running = false;
  let n = 0;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 100 }, () =>
          session.post('Profiler.start'),
        ),
      );
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, res) => {
      const i = n++;
      if (!err) writeFileSync(join(dir, `${i}.cpuprofile`), JSON.stringify(res.profile));
      writeFileSync(join(dir, `${i}.done`), err ? String(err) : 'ok');
    });
  });
}
