// The servers under load: Keyward's built server on a private copy of a cached database, and the
// reference and peer servers of bench/servers/, each a child process pinned to core 0 with the
// profiling hook preloaded (bench/lib/profile-hook.js: idle until the benchmark signals it).

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, onExit, root, serverMain, startNode, waitForHttp } from './processes.js';

export const profileDir = mkdtempSync(join(tmpdir(), 'keyward-bench-profiles-'));
onExit(() => rmSync(profileDir, { recursive: true, force: true }));
const hook = ['--import', pathToFileURL(join(root, 'bench/lib/profile-hook.js')).href];

/** Keyward's server (`serve`, default settings) on a private copy of `db`, pinned to core 0, with /metrics on. */
export async function startKeyward(db, label, env = {}) {
  const copy = db.copyForRun();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const metricsToken = randomBytes(24).toString('hex');
  const serverEnv = {
    KEYWARD_DATABASE_URL: `sqlite:${copy.databaseFile}`,
    KEYWARD_PORT: String(port),
    KEYWARD_HOST: '127.0.0.1',
    KEYWARD_PUBLIC_URL: url,
    KEYWARD_LOG_LEVEL: 'warn',
    KEYWARD_CONSOLE_DIR: '',
    KEYWARD_METRICS_TOKEN: metricsToken,
    KEYWARD_BENCH_PROFILE_DIR: profileDir,
    ...env,
  };
  const { child, output } = await startNode([...hook, serverMain, 'serve'], { env: serverEnv, core: 0, label });
  await waitForHttp(`${url}/healthz`);
  return { child, url, copy, output, pid: child.pid, label, metrics: () => readMetrics(url, metricsToken) };
}

/** A script of bench/servers/ (`node <script> <port> ...args`) on `core`, ready when it prints "listening". */
export async function startScript(script, args, { env = {}, label, core = 0 }) {
  const port = await freePort();
  const { child } = await startNode([...hook, join(root, script), String(port), ...args], {
    env: { KEYWARD_BENCH_PROFILE_DIR: profileDir, ...env },
    core,
    label,
    ready: (out) => out.includes('listening'),
  });
  return { child, url: `http://127.0.0.1:${port}`, pid: child.pid, label };
}

/** Keyward's Prometheus series as `{ name{labels}: value }`; null when /metrics cannot be read. */
export async function readMetrics(url, token) {
  try {
    const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) return null;
    const values = {};
    for (const line of (await response.text()).split('\n')) {
      const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?)\s+(\S+)$/.exec(line);
      if (match) values[match[1]] = Number(match[2]);
    }
    return values;
  } catch {
    return null;
  }
}
