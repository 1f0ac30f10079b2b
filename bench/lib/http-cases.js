// The HTTP cases of every section, measured together: interleaved round by round (case 1, case 2,
// ..., then again), each run after a warm-up and once the servers' core is quiet, medians reported; then one more short run per case
// with the servers' CPU profiler on (bench/lib/profile-hook.js), summarised per server.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { median, waitForQuietCore } from './processes.js';
import { describeProfile, readProfile, summarizeProfile } from './profile.js';
import { profileDir } from './servers.js';
import { measure } from './wrk.js';

/**
 * `cases`: `{ id, section, label, connections, target, stats?, profile? }` (target as for
 * `measure`; `stats` an async function returning counters the server keeps, read before and after
 * each measured run). Returns a Map from case id to the case with its medians, its runs and the
 * totals the reports need.
 */
export async function runHttpCases(cases, settings, log) {
  const runs = new Map(cases.map((c) => [c.id, []]));
  const answered = new Map(cases.map((c) => [c.id, 0]));
  const deltas = new Map();
  for (let round = 1; round <= settings.rounds; round++) {
    for (const c of cases) {
      // The servers' core (0) quiet first: work a server goes on doing after its own case must not
      // slow the next case's server.
      const waitedMs = await waitForQuietCore(0);
      if (waitedMs > 1000) log(`waited ${(waitedMs / 1000).toFixed(1)} s for core 0 to be quiet before ${c.label}`);
      const warmup = await measure(c.target, { connections: c.connections, durationSeconds: settings.warmupSeconds });
      const before = c.stats ? await c.stats() : null;
      const run = await measure(c.target, { connections: c.connections, durationSeconds: settings.durationSeconds });
      const after = c.stats ? await c.stats() : null;
      if (before && after) {
        // Counters the servers keep (cache misses, verdict hits), summed over the measured runs.
        const sum = (deltas.get(c.id) ?? deltas.set(c.id, {}).get(c.id));
        for (const [name, value] of Object.entries(after)) if (typeof value === 'number' && typeof before[name] === 'number') sum[name] = (sum[name] ?? 0) + value - before[name];
      }
      runs.get(c.id).push(run);
      answered.set(c.id, answered.get(c.id) + warmup.total + run.total);
      log(
        `round ${round}/${settings.rounds} ${c.label} @${c.connections}: ${Math.round(run.requestsPerSecond)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms` +
          ` (server CPU ${run.serverCpu}%, wrk CPU ${run.loaderCpu}%${run.errors ? `, ${run.errors} errors/timeouts` : ''}${run.commitPolls ? `, commits seen in ${run.commitPolls.changed}/${run.commitPolls.polls} polls` : ''})`,
      );
    }
  }
  return new Map(
    cases.map((c) => {
      const list = runs.get(c.id);
      const rps = median(list.map((r) => r.requestsPerSecond));
      const serverCpu = median(list.map((r) => r.serverCpu));
      return [
        c.id,
        {
          ...c,
          requestsPerSecond: Math.round(rps),
          runs: list.map((r) => Math.round(r.requestsPerSecond)),
          p50Ms: median(list.map((r) => r.p50Ms)),
          p99Ms: median(list.map((r) => r.p99Ms)),
          p999Ms: median(list.map((r) => r.p999Ms)),
          maxMs: Math.max(...list.map((r) => r.maxMs)),
          serverCpu,
          loaderCpu: median(list.map((r) => r.loaderCpu)),
          // Server CPU time per request, from each run's own CPU time and request count.
          serverMicrosPerRequest: median(list.map((r) => (r.requestsPerSecond > 0 ? ((r.serverCpu / 100) * 1e6) / r.requestsPerSecond : NaN))),
          total: list.reduce((s, r) => s + r.total, 0),
          answered: answered.get(c.id),
          errors: list.reduce((s, r) => s + r.errors, 0),
          keysRepeated: Boolean(c.target.wrapped),
          statsDelta: deltas.get(c.id) ?? null,
          commitPolls: list[0].commitPolls
            ? { changed: list.reduce((s, r) => s + r.commitPolls.changed, 0), polls: list.reduce((s, r) => s + r.commitPolls.polls, 0) }
            : null,
          profiles: [],
        },
      ];
    }),
  );
}

const profilesTaken = new Map();

async function waitForFile(file, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/**
 * One more run of `seconds` per case with the CPU profiler of each of its servers on (`c.profile`:
 * `[{ pid, label }]`, servers started by bench/lib/servers.js); adds `profiles: [{ label, summary,
 * text }]` to each row of `rows`.
 */
export async function profileCases(cases, rows, { seconds, log }) {
  for (const c of cases) {
    const servers = c.profile ?? [];
    if (servers.length === 0) continue;
    for (const { pid } of servers) process.kill(pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 100));
    await measure(c.target, { connections: c.connections, durationSeconds: seconds });
    for (const { pid } of servers) process.kill(pid, 'SIGUSR2');
    const row = rows.get(c.id);
    for (const { pid, label } of servers) {
      const n = (profilesTaken.get(pid) ?? 0) + 1;
      profilesTaken.set(pid, n);
      const file = join(profileDir, `${pid}-${n}.cpuprofile`);
      const summary = (await waitForFile(file)) ? summarizeProfile(readProfile(file)) : null;
      row.profiles.push({ label, summary, text: describeProfile(summary) });
    }
    log(`profiled ${c.label} @${c.connections}: ${row.profiles.map((p) => `${p.label}: ${p.text}`).join(' | ')}`);
  }
}
