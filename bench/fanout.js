// Fan-out (issue 11): three Keyward instances on one PostgreSQL database, under verification load,
// revoke keys round robin; the delay from each revoke's 2xx to the first REVOKED on each of the other
// two instances. Three modes: without Redis (LISTEN/NOTIFY wakes the instances, the invalidation log
// is polled), with Redis (pub/sub as well), and with the notifications cut (every 100 ms the LISTEN
// connections are terminated and Redis's publishers killed). The measurement itself is
// bench/lib/fanout.js, shared with tests/process/fanout.test.ts.
//
//   npm run build && node bench/run.js --only fanout [--revokes 1000]
//
// Each mode gets a new database on the PostgreSQL server at KEYWARD_BENCH_POSTGRES_URL (else
// KEYWARD_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test), dropped afterwards, and a
// redis-server of its own on a free port (CLIENT KILL drops every normal client of the server it
// runs on, so never a shared one). Instances run pinned to core 0 like every server of the benchmark;
// this process (the probes and the load) stays on core 1.

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createKeys, cutNotifications, instanceClient, measureFanout, warmCaches } from './lib/fanout.js';
import { cpuSample, freePort, onExit, root, serverMain, startNode, stopChild, waitForHttp } from './lib/processes.js';

export const FANOUT_BOUND_MS = 1000;
export const FANOUT_P99_TARGET_MS = 50;
const INSTANCES = 3;

export const FANOUT_MODES = [
  { id: 'listen', label: 'without Redis: LISTEN/NOTIFY, the log polled every 200 ms', redis: false, cut: false, p99Target: true },
  { id: 'redis', label: 'with Redis pub/sub as well', redis: true, cut: false, p99Target: true },
  { id: 'cut', label: 'notifications cut: LISTEN connections terminated and Redis publishers killed every 100 ms', redis: true, cut: true, p99Target: false },
];

const postgresUrl = () => process.env.KEYWARD_BENCH_POSTGRES_URL ?? process.env.KEYWARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function withAdmin(fn) {
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/** A new database for one mode; `drop()` removes it (and so does an interrupted benchmark, best effort, with psql). */
async function freshDatabase() {
  const name = `kw_fanout_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin.query(`create database ${name}`));
  const url = new URL(postgresUrl());
  url.pathname = `/${name}`;
  const dropOnExit = onExit(() => {
    try {
      execFileSync('psql', [postgresUrl(), '-qc', `drop database if exists ${name} with (force)`], { stdio: 'ignore' });
    } catch {
      // no psql: the database is left behind (its name starts with kw_fanout_)
    }
  });
  return {
    url: url.toString(),
    async drop() {
      dropOnExit();
      await withAdmin((admin) => admin.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/** A redis-server of this run's own, without persistence. */
async function startRedis() {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const stopOnExit = onExit(() => child.kill('SIGKILL'));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') break;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      probe.disconnect();
    }
  }
  return { url, stop: () => stopChild(child, 2000).then(() => stopOnExit()) };
}

function cli(args, env) {
  return JSON.parse(execFileSync(process.execPath, [serverMain, ...args, '--json'], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' }));
}

function stealSnapshot() {
  try {
    const numbers = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { steal: numbers[7] ?? 0, total: numbers.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/**
 * One instance, on a free port. Ready when it prints the line `serve` prints once listening (not when
 * the port answers: on a shared machine another process may take a port between its probe and the
 * bind, and would answer instead); a start that fails is retried on another port.
 */
async function startInstance(base, extraEnv, label) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { ...base, KEYWARD_PORT: String(port), KEYWARD_HOST: '127.0.0.1', KEYWARD_PUBLIC_URL: url, KEYWARD_LOG_LEVEL: 'warn', KEYWARD_CONSOLE_DIR: '', ...extraEnv };
    try {
      const { child, output } = await startNode([serverMain, 'serve'], { env, core: 0, label, ready: (out) => out.includes(`running at ${url}`) });
      await waitForHttp(`${url}/healthz`);
      return { child, output, url };
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

async function runMode(mode, { revokes, parallel, loadLoops, log }) {
  const db = await freshDatabase();
  const redis = mode.redis ? await startRedis() : null;
  const servers = [];
  const clients = [];
  try {
    const base = {
      KEYWARD_DATABASE_URL: db.url,
      KEYWARD_PEPPER: randomBytes(32).toString('hex'),
      KEYWARD_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    };
    // Operator commands refuse a store that was never migrated: migrate first, as an operator would.
    execFileSync(process.execPath, [serverMain, 'migrate'], { cwd: root, env: { ...process.env, ...base }, stdio: 'ignore' });
    const org = cli(['admin', 'create-org', '--name', 'Fanout', '--owner-email', 'fanout@example.test'], base);
    const verifier = cli(['admin', 'create-verifier', '--name', 'gateway'], base);
    const extraEnv = { KEYWARD_KEY_CREATIONS_PER_MINUTE: '0', KEYWARD_AUTH_FAILURES_PER_MINUTE: '0', ...(redis ? { KEYWARD_REDIS_URL: redis.url } : {}) };
    for (let i = 0; i < INSTANCES; i++) {
      const instance = await startInstance(base, extraEnv, `keyward instance ${i + 1} (${mode.id})`);
      servers.push(instance);
      clients.push(instanceClient(instance.url));
    }
    log(`${mode.id}: creating ${revokes} keys and warming the ${INSTANCES} instances' caches`);
    const keys = await createKeys(clients[0], org.adminKey.token, revokes);
    await warmCaches(clients, verifier.token, keys);
    log(`${mode.id}: ${revokes} revokes, ${parallel} at a time, ${loadLoops} load loop(s) per instance`);
    const cutter = mode.cut ? await cutNotifications({ databaseUrl: db.url, redisUrl: redis?.url ?? null, everyMs: 100 }) : null;
    const cpu = cpuSample(servers.map(({ child }) => child.pid));
    let result;
    let faults = null;
    try {
      result = await measureFanout({ clients, adminToken: org.adminKey.token, verifierToken: verifier.token, keys, parallel, loadLoops, boundMs: FANOUT_BOUND_MS });
    } finally {
      faults = (await cutter?.stop()) ?? null;
    }
    const usage = cpu.end();
    log(
      `${mode.id}: delay p50 ${result.p50Ms} / p95 ${result.p95Ms} / p99 ${result.p99Ms} / max ${result.maxMs} ms; VALID after ${FANOUT_BOUND_MS} ms: ${result.validAfterBound};` +
        ` verification round trip p50 ${result.verifyP50Ms} / p99 ${result.verifyP99Ms} ms; servers ${usage.serverCpu}% of a core, cores busy ${usage.coreBusy?.join('% / ')}%` +
        (faults ? `; ${faults.listenTerminated} LISTEN connections terminated, ${faults.redisKilled} Redis clients killed` : ''),
    );
    return { ...mode, result, faults, cpu: usage };
  } catch (err) {
    const states = servers.map(({ child, url, output }, i) => `instance ${i + 1} at ${url}: ${child.exitCode === null && child.signalCode === null ? 'running' : `exited (${child.exitCode ?? child.signalCode})`}\n${output().slice(-2000)}`);
    throw new Error(`fan-out ${mode.id}: ${err.stack ?? err}\n${states.join('\n')}`);
  } finally {
    for (const client of clients) client.close();
    for (const { child } of servers) await stopChild(child, 5000);
    await redis?.stop();
    await db.drop();
  }
}

/** Runs the three modes one after another; returns what `renderFanout` prints. */
export async function runFanoutBench({ revokes = 1000, parallel = 4, loadLoops = 1, log = () => {} } = {}) {
  const startedAt = new Date();
  const load = [loadavg()[0]];
  const stealStart = stealSnapshot();
  const postgresVersion = await withAdmin(async (admin) => (await admin.query('show server_version')).rows[0].server_version);
  let redisVersion = '?';
  try {
    redisVersion = /v=([\d.]+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    // reported as ?
  }
  const modes = [];
  for (const mode of FANOUT_MODES) modes.push(await runMode(mode, { revokes, parallel, loadLoops, log }));
  const stealEnd = stealSnapshot();
  load.push(loadavg()[0]);
  return {
    startedAt,
    finishedAt: new Date(),
    load,
    steal: stealStart && stealEnd ? Math.round(((stealEnd.steal - stealStart.steal) / Math.max(1, stealEnd.total - stealStart.total)) * 1000) / 10 : null,
    postgresVersion,
    redisVersion,
    revokes,
    parallel,
    loadLoops,
    modes,
  };
}

// ---------------------------------------------------------------------------------------------
// The report: section (h) of docs/benchmarks.md, between markers, so that a run of this section
// alone replaces it in place and leaves the other sections' figures as they are.

export const FANOUT_BEGIN = '<!-- fan-out: begin. `node bench/run.js --only fanout` replaces this section in place; the other sections stay as they are. -->';
export const FANOUT_END = '<!-- fan-out: end -->';

const int = (n) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const ms = (n) => (n === null || n === undefined ? 'n/a' : Number.isInteger(n) ? `${n}` : n.toFixed(1));
const verdict = (ok) => (ok ? '**PASS**' : '**MISS**');

function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** Section (h), markers included, from what `runFanoutBench` returned. */
export function renderFanout(bench, { command, machine }) {
  const out = [FANOUT_BEGIN, '## (h) Fan-out: a revoke reaching the other instances', ''];
  const seconds = Math.round((bench.finishedAt - bench.startedAt) / 1000);
  out.push(
    `\`bench/fanout.js\` over \`bench/lib/fanout.js\` (the same measurement as \`tests/process/fanout.test.ts\`): ${INSTANCES} Keyward instances on one PostgreSQL database (a new database per mode), pinned to core 0; ${int(bench.revokes)} service keys made through the API and verified once on every instance, so every verdict cache holds every key. The keys are then revoked round robin over the instances, ${bench.parallel} at a time, while ${bench.loadLoops} loop(s) per instance verify random keys of the set without pause. After each revoke's 2xx the two other instances are probed in a tight loop each (from this process, on core 1) until they answer \`REVOKED\`: the delay is from the 2xx to that answer's arrival, so it includes one verification round trip. Any \`VALID\` answer to a request sent more than ${int(FANOUT_BOUND_MS)} ms after its key's revoke answered (from the load, the probes, or a final sweep of every revoked key on every instance) counts as VALID after the bound.`,
  );
  out.push('');
  out.push(
    `Measured on ${bench.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`${command}\` (after \`npm run build\`); the three modes took ${Math.floor(seconds / 60)} min ${seconds % 60} s. ${machine.model}, ${machine.cores} cores; Node ${process.version}, PostgreSQL ${bench.postgresVersion}, Redis ${bench.redisVersion} (a redis-server of the run's own). Load average (1 min) at start / end: ${bench.load.map((l) => l.toFixed(2)).join(' / ')}; hypervisor steal: ${bench.steal ?? 'n/a'}%.`,
  );
  out.push('');
  const rows = bench.modes.map(({ label, result: r, cpu }) => [
    label,
    int(r.revokes),
    int(r.pairs),
    ms(r.p50Ms),
    ms(r.p95Ms),
    ms(r.p99Ms),
    r.maxMs === null ? `over ${int(5000)}` : ms(r.maxMs),
    int(r.overBound),
    int(r.validAfterBound),
    `${int(r.firstProbeRevoked)} of ${int(r.pairs)}`,
    `${ms(r.stillValidP50Ms)} / ${ms(r.stillValidP99Ms)} / ${ms(r.stillValidMaxMs)}`,
    `${ms(r.verifyP50Ms)} / ${ms(r.verifyP99Ms)}`,
    `${ms(r.revokeP50Ms)} / ${ms(r.revokeP99Ms)}`,
    int(r.loadPerSecond),
    cpu.coreBusy ? `${cpu.coreBusy.join('% / ')}% (servers ${cpu.serverCpu}%)` : 'n/a',
  ]);
  out.push(
    table(
      ['mode', 'revokes', 'pairs (revoke, other instance)', 'delay p50 ms', 'p95 ms', 'p99 ms', 'max ms', `over ${int(FANOUT_BOUND_MS)} ms`, 'VALID after the bound', 'REVOKED at the first probe', 'last VALID probe sent at p50 / p99 / max ms', 'verification round trip p50 / p99 ms', 'revoke 2xx p50 / p99 ms', 'load verifications/s', 'cores busy 0 / 1'],
      rows,
    ),
  );
  out.push('');
  const cut = bench.modes.find((m) => m.faults);
  if (cut) {
    out.push(`In the mode with notifications cut, ${int(cut.faults.rounds)} rounds 100 ms apart terminated ${int(cut.faults.listenTerminated)} LISTEN connections (\`pg_terminate_backend\` of application name \`keyward-listen\` on the mode's database) and killed ${int(cut.faults.redisKilled)} Redis clients (\`CLIENT KILL TYPE normal\`: the publishers and the rate limiter's client, not the subscribers).`);
    out.push('');
  }
  out.push('"REVOKED at the first probe" counts the pairs whose first probe, sent as the revoke\'s 2xx arrived, already answered `REVOKED`: their delay is one verification round trip (p50 / p99 during the revokes in its own column), so a delay can be no shorter than the machine\'s round trip. "Last VALID probe sent at" brackets the fan-out itself: per pair, the time from the 2xx to the sending of the last probe still answered `VALID` (0 when none was); the other instance learned of the revoke after that and before the first `REVOKED` arrived. "cores busy" is how busy each core was during the revokes (from `/proc/stat`, every process of the machine), with the share of one core the three instances used.');
  out.push('');
  const targets = [];
  for (const { label, result: r, p99Target } of bench.modes) {
    if (p99Target) targets.push([`fan-out p99, ${label}`, `≤ ${FANOUT_P99_TARGET_MS} ms`, `${ms(r.p99Ms)} ms (round trip p99 ${ms(r.verifyP99Ms)} ms)`, verdict(r.p99Ms !== null && r.p99Ms <= FANOUT_P99_TARGET_MS)]);
  }
  for (const { label, result: r } of bench.modes) {
    targets.push([`fan-out max, ${label}`, `≤ ${int(FANOUT_BOUND_MS)} ms`, r.maxMs === null ? `${r.missed.length} pair(s) never REVOKED` : `${ms(r.maxMs)} ms`, verdict(r.maxMs !== null && r.overBound === 0)]);
    targets.push([`VALID after the bound, ${label}`, '0', `${int(r.validAfterBound)} (final sweep: ${int(r.sweepValid)})`, verdict(r.validAfterBound === 0)]);
  }
  out.push(table(['target (issue 11)', 'goal', 'measured', ''], targets));
  out.push('');
  out.push('Run alone: `npm run build && node bench/run.js --only fanout` (`--revokes <n>` per mode, default 1,000); each mode makes and drops its own database on `KEYWARD_BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and starts its own `redis-server`.');
  out.push(FANOUT_END);
  return out.join('\n');
}

/** `doc` with its fan-out section replaced by `section` (or inserted before the notes that close the report). */
export function spliceFanout(doc, section) {
  const begin = doc.indexOf(FANOUT_BEGIN);
  const end = doc.indexOf(FANOUT_END);
  if (begin >= 0 && end > begin) return doc.slice(0, begin) + section + doc.slice(end + FANOUT_END.length);
  for (const anchor of ['\nIn these rows the load generator', '\n## Targets', '\n## Running it']) {
    const at = doc.indexOf(anchor);
    if (at >= 0) return `${doc.slice(0, at + 1)}${section}\n\n${doc.slice(at + 1)}`;
  }
  return `${doc.trimEnd()}\n\n${section}\n`;
}
