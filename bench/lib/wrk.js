// The HTTP load generator: wrk (Debian's package), one thread on core 1 when pinning is possible,
// driven by bench/lib/wrk-requests.lua so that every request can carry a different key (a body or a
// header drawn at random from a file of prepared variants, read by the script before the run).
// Each run reports requests per second, exact latency percentiles (µs), the CPU time wrk used and
// the CPU time the server processes used (from /proc), and optionally watches a SQLite file for
// commits.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canPin, cpuSample, killWithBench, onExit, root } from './processes.js';
import { watchCommits } from './load.js';

const SCRIPT = join(root, 'bench/lib/wrk-requests.lua');
const TICKS_PER_SECOND = 100;

/** wrk's path, or null when it is not installed. */
export const wrkPath = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
})();

/** Stops the benchmark with exit code 2 and the way to install wrk when it is missing. */
export function requireWrk(log) {
  if (wrkPath) return;
  log('wrk is not installed: the HTTP rows need it. Install it with `apt-get install -y wrk` (Debian and Ubuntu: the package is `wrk`), then run the benchmark again.');
  process.exit(2);
}

export function wrkVersion() {
  try {
    return /wrk\s+(\S+)/.exec(execFileSync(wrkPath, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))?.[1] ?? '?';
  } catch (err) {
    // wrk --version exits 1 after printing its version
    return /wrk\s+(\S+)/.exec(String(err.stdout ?? ''))?.[1] ?? '?';
  }
}

const tempDir = mkdtempSync(join(tmpdir(), 'keyward-bench-wrk-'));
onExit(() => rmSync(tempDir, { recursive: true, force: true }));
let fileCount = 0;

/**
 * A file of request variants for wrk, for `mode` 'body' (each line a request body) or
 * 'header:<Name>' (each line that header's value). Lines must not contain a newline. Written once
 * per target and reused by every run against it.
 */
export function variantsFile(mode, lines) {
  const file = join(tempDir, `variants-${++fileCount}.txt`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, mode, count: lines.length };
}

/** Runs wrk once; resolves with the parsed `wrk-result` line and wrk's own output. */
function runWrk(target, { connections, durationSeconds, order = target.order ?? 'random', start = 0 }) {
  const { url, path = '/', method = 'GET', headers = {}, variants = null, body = '' } = target;
  const args = ['-t', '1', '-c', String(connections), '-d', `${durationSeconds}s`, '--timeout', '5s', '--latency', '-s', SCRIPT];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  args.push(`${url}${path}`, '--', variants?.file ?? '', variants?.mode ?? 'none', order, method, String(start), body);
  const command = canPin ? 'taskset' : wrkPath;
  const argv = canPin ? ['-c', '1', wrkPath, ...args] : args;
  const child = killWithBench(spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    // wrk's main thread sleeps for the whole duration even when the script stopped its thread: a
    // "once" run that has every answer is ended with SIGINT, after which wrk prints its summary.
    if (order === 'once' && stdout.includes('wrk-once-done') && !child.killed) child.kill('SIGINT');
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolveRun, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const line = /^wrk-result (\{.*\})$/m.exec(stdout)?.[1];
      if (code !== 0 || !line) return reject(new Error(`wrk ${argv.join(' ')} failed (${code ?? signal}):\n${stdout}\n${stderr}`));
      resolveRun({ ...JSON.parse(line), output: stdout });
    });
  });
}

/**
 * One measured run against `target`: `{ url, path, method, headers, body, variants, order, pids,
 * databaseFile, label }` (`variants` from `variantsFile`, with its mode; `body` the body of every
 * request when the variants are headers; `order` 'random' by default,
 * or 'cycle': the variants in turn, each run going on where the last one stopped). Throws on any
 * answer that is not 2xx: a wrong answer stops the benchmark.
 */
export async function measure(target, { connections, durationSeconds }) {
  const commits = target.databaseFile ? watchCommits(target.databaseFile) : null;
  const sample = cpuSample(target.pids ?? []);
  let run;
  let writes = null;
  try {
    run = await runWrk(target, { connections, durationSeconds, start: target.cursor ?? 0 });
    // Requests still in flight when wrk stopped were sent but not counted: skip past them too.
    if (target.order === 'cycle' && (target.cursor ?? 0) + run.requests + connections >= target.variants.count) target.wrapped = true;
    if (target.order === 'cycle') target.cursor = ((target.cursor ?? 0) + run.requests + connections) % target.variants.count;
  } finally {
    writes = commits?.stop() ?? null;
  }
  const cpu = sample.end();
  if (run.non2xx > 0) throw new Error(`${target.label}: ${run.non2xx} answers were not 2xx (of ${run.requests})`);
  const seconds = run.durationUs / 1e6;
  return {
    requestsPerSecond: run.requests / seconds,
    total: run.requests,
    errors: run.connectErrors + run.readErrors + run.writeErrors + run.timeouts,
    p50Ms: run.p50Us / 1000,
    p99Ms: run.p99Us / 1000,
    p999Ms: run.p999Us / 1000,
    maxMs: run.maxUs / 1000,
    serverCpu: cpu.serverCpu,
    loaderCpu: run.cpuTicks === null ? null : Math.round((run.cpuTicks / TICKS_PER_SECOND / seconds) * 100),
    coreBusy: cpu.coreBusy,
    steal: cpu.steal,
    commitPolls: writes,
  };
}

/**
 * Sends every variant of `target` once, in file order, `connections` at a time, and waits for the
 * answers: the server's caches then hold the whole key set. Throws if an answer was not 200.
 */
export async function warmEveryVariant(target, { connections = 50, maxSeconds = 1800 } = {}) {
  const run = await runWrk(target, { connections, durationSeconds: maxSeconds, order: 'once' });
  if (run.non2xx > 0) throw new Error(`warming ${target.label}: ${run.non2xx} answers were not 2xx`);
  return { requests: run.requests, seconds: run.durationUs / 1e6 };
}
