// The load generator: autocannon in this process (pinned to core 1), with the CPU each side used
// during the run, and optionally a watch on a SQLite file that notices every commit.

import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { cpuSample } from './processes.js';
import { xorshift32 } from './random.js';

/** The next key to present, of n (one sequence for the load generator). */
export const nextIndex = xorshift32(0x2545f491);

/**
 * Polls `PRAGMA data_version` of a SQLite file from another connection every 50 ms: it changes when
 * any other connection commits. The count of polls that saw a change is a lower bound on the commits
 * and an upper bound on the 50-ms windows that had one; one write per request would change it at
 * every poll.
 */
export function watchCommits(file) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const version = db.prepare('pragma data_version').pluck();
  let last = version.get();
  let polls = 0;
  let changed = 0;
  const timer = setInterval(() => {
    const now = version.get();
    polls++;
    if (now !== last) changed++;
    last = now;
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      db.close();
      return { polls, changed };
    },
  };
}

/**
 * One autocannon run against `target`: `{ url, path, method, headers, body }` with optional
 * `nextBody()` / `nextHeaders()` to vary every request (a random key each time), `pids` of the
 * server processes for CPU accounting and `databaseFile` to watch for commits.
 */
export async function measure(target, { connections, durationSeconds }) {
  const { url, path = '/', method = 'GET', headers = {}, body, nextBody, nextHeaders } = target;
  const request = { method, path, headers, ...(body !== undefined ? { body } : {}) };
  if (nextBody || nextHeaders) {
    request.setupRequest = (req) => {
      if (nextBody) req.body = nextBody();
      if (nextHeaders) req.headers = { ...req.headers, ...nextHeaders() };
      return req;
    };
    if (nextBody) request.body = nextBody();
  }
  const commits = target.databaseFile ? watchCommits(target.databaseFile) : null;
  const sample = cpuSample(target.pids ?? []);
  const result = await autocannon({ url, connections, duration: durationSeconds, requests: [request] });
  const cpu = sample.end();
  const writes = commits?.stop() ?? null;
  // A wrong answer stops the benchmark; connection errors and timeouts (a starved machine) are counted.
  if (result.non2xx > 0) throw new Error(`${target.label}: ${result.non2xx} answers were not 2xx (of ${result.requests.total})`);
  return {
    requestsPerSecond: result.requests.total / result.duration,
    total: result.requests.total,
    errors: result.errors + result.timeouts,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ...cpu,
    commitPolls: writes,
  };
}
