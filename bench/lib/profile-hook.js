// Preloaded into the benchmark's servers (`node --import bench/lib/profile-hook.js <server>`), so the
// built servers run unmodified: SIGUSR2 starts V8's sampling CPU profiler in the process, the next
// SIGUSR2 stops it and writes `<KEYWARD_BENCH_PROFILE_DIR>/<pid>-<n>.cpuprofile`. Until the first
// signal nothing runs: the measured runs are not profiled.

import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.KEYWARD_BENCH_PROFILE_DIR;
if (dir) {
  let session = null;
  let count = 0;
  process.on('SIGUSR2', () => {
    if (!session) {
      session = new Session();
      session.connect();
      session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 250 }, () => session.post('Profiler.start')));
      return;
    }
    const current = session;
    session = null;
    current.post('Profiler.stop', (err, result) => {
      current.disconnect();
      if (err) return;
      const file = join(dir, `${process.pid}-${++count}.cpuprofile`);
      writeFileSync(`${file}.partial`, JSON.stringify(result.profile));
      renameSync(`${file}.partial`, file);
    });
  });
}
