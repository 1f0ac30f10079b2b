// Instructions per in-process verification, a figure that does not move with the machine's load:
// the in-process worker run twice under `valgrind --tool=callgrind` (the JIT's code included), once
// with `count` verifications after the warm-up and once with none, at the same time on the two
// cores; the difference of the instructions executed, divided by `count`.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit, root, runProgram } from './processes.js';

export const valgrindPath = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v valgrind'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
})();

export function valgrindVersion() {
  try {
    return execFileSync(valgrindPath, ['--version'], { encoding: 'utf8' }).trim().replace(/^valgrind-/, '');
  } catch {
    return '?';
  }
}

/** `{ instructionsPerVerification, count, warmCount, hotKeys, seconds, totals }`, or null without valgrind. */
export async function instructionsPerVerification(workerOptions, { count = 20_000, warmCount = 20_000, log = () => {} } = {}) {
  if (!valgrindPath) return null;
  const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-callgrind-'));
  const remove = onExit(() => rmSync(dir, { recursive: true, force: true }));
  const started = Date.now();
  try {
    const run = async (n, core) => {
      const out = join(dir, `callgrind-${n}.out`);
      const options = { ...workerOptions, count: n, warmCount };
      await runProgram(
        valgrindPath,
        ['--tool=callgrind', `--callgrind-out-file=${out}`, `--log-file=${join(dir, `valgrind-${n}.log`)}`, process.execPath, '--expose-gc', join(root, 'bench/workers/keyward-in-process.js'), JSON.stringify(options)],
        { core, label: `callgrind (${n} verifications)` },
      );
      const total = /^summary:\s*(\d+)/m.exec(readFileSync(out, 'utf8'))?.[1];
      if (!total) throw new Error(`callgrind wrote no summary for ${n} verifications`);
      return Number(total);
    };
    log(`callgrind: ${workerOptions.hotKeys} warm keys, ${warmCount.toLocaleString('en-US')} verifications of warm-up, then ${count.toLocaleString('en-US')} or none`);
    const [measured, baseline] = await Promise.all([run(count, 1), run(0, 0)]);
    return {
      instructionsPerVerification: Math.round((measured - baseline) / count),
      count,
      warmCount,
      hotKeys: workerOptions.hotKeys,
      via: workerOptions.via ?? 'core',
      totals: { measured, baseline },
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    remove();
  }
}
