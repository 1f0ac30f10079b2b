// Child processes of the benchmark: started pinned to a core when `taskset` is there, tracked, and
// killed when the benchmark ends, fails or is interrupted, so no server outlives a run.

import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const serverMain = join(root, 'packages/server/dist/main.js');

const children = new Set();
const cleanups = new Set();

/** Runs `fn` (synchronous) when the benchmark exits, however it exits; returns a function that runs it now instead. */
export function onExit(fn) {
  cleanups.add(fn);
  return () => {
    if (cleanups.delete(fn)) fn();
  };
}

function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const fn of cleanups) {
    try {
      fn();
    } catch {
      // keep cleaning up
    }
  }
  cleanups.clear();
}

process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** Kills `child` (any program the benchmark started) with the benchmark, however it ends. */
export function killWithBench(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Whether servers and the load generator can run on different cores. */
export const canPin = (() => {
  if (cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Moves this process (the load generator) to core 1. */
export function pinSelf() {
  if (canPin) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

/**
 * Starts `node <args>` on `core` (when pinning is possible) and resolves once `ready(output)` is
 * true. The child is killed with the benchmark.
 */
export function startNode(args, { env = {}, core = 0, ready = () => true, timeoutMs = 60_000, label = args.join(' ') } = {}) {
  const command = canPin ? 'taskset' : process.execPath;
  const argv = canPin ? ['-c', String(core), process.execPath, ...args] : args;
  const child = spawn(command, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  const collect = (chunk) => {
    output += chunk;
    if (output.length > 64_000) output = output.slice(-32_000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return new Promise((resolveChild, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start in time:\n${output}`)), timeoutMs);
    const check = () => {
      if (ready(output)) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        child.stderr.off('data', check);
        child.off('exit', onExit);
        resolveChild({ child, output: () => output });
      }
    };
    const onExit = (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (${code ?? signal}) before it was ready:\n${output}`));
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', onExit);
    check();
  });
}

/** Runs `node <args>` on `core` to completion and returns its stdout (JSON workers print one line). */
export function runNode(args, options = {}) {
  return runProgram(process.execPath, args, options);
}

/** Runs `program <args>` on `core` to completion and returns its stdout. */
export function runProgram(program, args, { env = {}, core = 1, label = `${program} ${args.join(' ')}` } = {}) {
  const command = canPin ? 'taskset' : program;
  const argv = canPin ? ['-c', String(core), program, ...args] : args;
  const child = spawn(command, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  return new Promise((resolveRun, reject) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (code === 0) resolveRun(stdout);
      else reject(new Error(`${label} failed (${code ?? signal})`));
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
export function stopChild(child, graceMs = 10_000) {
  return new Promise((resolveStop) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolveStop(child.exitCode);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveStop(code);
    });
    child.kill('SIGTERM');
  });
}

/** The pid of the node process behind a child (taskset execs node, so it is the child's own pid). */
export const pidOf = (child) => child.pid;

export async function waitForHttp(url, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered`);
}

// CPU accounting from /proc: how busy each core was and how much of it our processes used, so a
// reader can tell a saturated server from a saturated load generator or a noisy neighbour.
const ticksPerSecond = 100;

function readCores() {
  try {
    const lines = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l));
    return lines.map((line) => {
      const [, ...fields] = line.trim().split(/\s+/);
      const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
      return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal: steal ?? 0 };
    });
  } catch {
    return null;
  }
}

function readProcessTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return null;
  }
}

/** Starts a CPU sample over `pids` (servers) and this process; `end()` returns percentages of one core. */
export function cpuSample(pids) {
  const started = process.hrtime.bigint();
  const cores = readCores();
  const ticks = pids.map(readProcessTicks);
  const self = process.cpuUsage();
  return {
    end() {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const selfUsage = process.cpuUsage(self);
      const after = readCores();
      const serverTicks = pids.map(readProcessTicks).reduce((sum, t, i) => (t === null || ticks[i] === null ? sum : sum + t - ticks[i]), 0);
      const pct = (value) => Math.round(value * 100);
      const coreBusy = cores && after ? after.map((c, i) => {
        const busy = c.busy - cores[i].busy;
        const total = busy + c.idle - cores[i].idle + c.steal - cores[i].steal;
        return { busy: total > 0 ? busy / total : 0, steal: total > 0 ? (c.steal - cores[i].steal) / total : 0 };
      }) : null;
      return {
        serverCpu: pct(serverTicks / ticksPerSecond / seconds),
        loaderCpu: pct((selfUsage.user + selfUsage.system) / 1e6 / seconds),
        coreBusy: coreBusy?.map((c) => pct(c.busy)) ?? null,
        steal: coreBusy ? pct(coreBusy.reduce((s, c) => s + c.steal, 0) / coreBusy.length) : null,
      };
    },
  };
}

/**
 * Waits until `core` has been nearly idle (under `idleBelow` busy) for `windowMs`, or `maxMs` has
 * passed; resolves with the milliseconds waited. A server keeps working for a while after its own
 * case (a usage flush of a million keys, a GC): the next case's server, pinned to the same core, must
 * not share it with that work.
 */
export async function waitForQuietCore(core, { idleBelow = 0.1, windowMs = 250, maxMs = 20_000 } = {}) {
  const started = Date.now();
  for (;;) {
    const before = readCores()?.[core];
    await new Promise((r) => setTimeout(r, windowMs));
    const after = readCores()?.[core];
    if (!before || !after) return Date.now() - started;
    const busy = after.busy - before.busy;
    const total = busy + after.idle - before.idle + after.steal - before.steal;
    if (total <= 0 || busy / total < idleBelow || Date.now() - started >= maxMs) return Date.now() - started;
  }
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
