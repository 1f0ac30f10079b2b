// Fan-out (issue 11, CONTRACT.md "Several instances and operations"): how long a revoke takes to
// reach the other instances sharing a store. Used by `bench/run.js --only fanout` and by
// tests/process/fanout.test.ts, so the benchmark row and the test measure the same thing.
//
// The instances are already running; this module creates keys through the API, warms every
// instance's verdict cache with them, keeps a bounded verification load on every instance, and
// revokes the keys round robin over the instances, a few at a time. After each revoke's 2xx the other
// instances are probed in a tight loop each until they answer REVOKED: the delay is from the 2xx to
// that answer's arrival (so it includes one round trip). Every VALID answer to a request sent more
// than `boundMs` after the key's revoke answered is counted as a violation, whichever loop sent it.

import { randomInt } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import pg from 'pg';

/** A keep-alive HTTP/1.1 client of one instance: `call(method, path, token, body)` → `{ status, body }`. */
export function instanceClient(url) {
  const { hostname, port } = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const call = (method, path, token, body) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = { authorization: `Bearer ${token}` };
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      const req = request({ agent, hostname, port, method, path, headers }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = null;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      });
      req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${url}${path}: no answer in 10 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  return { url, call, close: () => agent.destroy() };
}

const verify = (client, verifierToken, key) => client.call('POST', '/api/keys/verify', verifierToken, { key });

/** Runs `worker(i)` for i in [0, count), `concurrency` at a time. */
async function forEachLimited(count, concurrency, worker) {
  let next = 0;
  const loop = async () => {
    while (next < count) await worker(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, loop));
}

/** `count` service keys (a gateway's kind), made through `POST /api/api-keys` on `client`. */
export async function createKeys(client, adminToken, count, { prefix = 'fanout', concurrency = 8 } = {}) {
  const keys = new Array(count);
  const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
  await forEachLimited(count, concurrency, async (i) => {
    const res = await client.call('POST', '/api/api-keys', adminToken, { name: `${prefix}-${i}`, keyType: 'service', expiresAt });
    if (res.status !== 201) throw new Error(`creating key ${i}: ${res.status} ${JSON.stringify(res.body)}`);
    keys[i] = { id: res.body.apiKey.id, token: res.body.token };
  });
  return keys;
}

/** Verifies every key once on every instance (each must answer VALID), so every cache holds every key. */
export async function warmCaches(clients, verifierToken, keys, { concurrency = 8 } = {}) {
  for (const client of clients) {
    await forEachLimited(keys.length, concurrency, async (i) => {
      const res = await verify(client, verifierToken, keys[i].token);
      if (res.status !== 200 || res.body?.code !== 'VALID') throw new Error(`warming ${client.url} with key ${i}: ${res.status} ${JSON.stringify(res.body)}`);
    });
  }
}

/** Nearest-rank percentile of sorted numbers. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/**
 * Revokes every key of `keys` (key i on instance i mod n) while `loadLoops` loops per instance verify
 * random keys of the set, `parallel` revokes at a time; returns the delays and what went wrong.
 *
 * @param {object} options
 * @param {{ url: string, call: Function }[]} options.clients the instances (at least two)
 * @param {string} options.adminToken a key that may revoke every key
 * @param {string} options.verifierToken a verifier credential
 * @param {{ id: string, token: string }[]} options.keys keys warmed on every instance
 */
export async function measureFanout({ clients, adminToken, verifierToken, keys, parallel = 4, loadLoops = 1, boundMs = 1000, giveUpMs = 5000 }) {
  if (clients.length < 2) throw new Error('fan-out needs at least two instances');
  const now = () => performance.now();
  /** When each key's revoke answered 2xx (performance.now()), by key token. */
  const ackAt = new Map();
  const violations = [];
  const statuses = new Map();
  const codes = new Map();
  /** Round trips of the verifications answered during the revokes (load and probes), in ms. */
  const roundTrips = [];
  /** Pairs already REVOKED at the first probe (sent as the 2xx arrived): their delay is one round trip. */
  let firstProbeRevoked = 0;
  let loadAnswers = 0;
  let probeAnswers = 0;
  let transportErrors = 0;
  const bump = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);

  /** Counts an answer; records a VALID answer to a request sent past the bound of its key's revoke. */
  const judge = (res, key, sentAt, instance, source) => {
    if (source !== 'sweep') roundTrips.push(now() - sentAt);
    bump(statuses, res.status);
    if (res.status !== 200) return null;
    const code = res.body?.code ?? 'none';
    bump(codes, code);
    const revokedAt = ackAt.get(key.token);
    if (code === 'VALID' && revokedAt !== undefined && sentAt > revokedAt + boundMs) {
      violations.push({ keyId: key.id, instance, source, sentAfterMs: Math.round(sentAt - revokedAt) });
    }
    return code;
  };

  let running = true;
  const loadLoop = async (instance) => {
    const client = clients[instance];
    while (running) {
      const key = keys[randomInt(keys.length)];
      const sentAt = now();
      try {
        judge(await verify(client, verifierToken, key.token), key, sentAt, instance, 'load');
        loadAnswers++;
      } catch {
        transportErrors++;
      }
    }
  };
  const loadStartedAt = now();
  const load = clients.flatMap((_, instance) => Array.from({ length: loadLoops }, () => loadLoop(instance)));

  /**
   * Probes `instance` for `key` until it answers REVOKED: `{ delay, stillValid }` from the revoke's 2xx
   * (delay null past `giveUpMs`). The instance learned of the revoke after it answered VALID to the
   * probe sent `stillValid` ms after the 2xx (0 when no probe was VALID) and before it answered the
   * first REVOKED, which arrived `delay` ms after the 2xx: the delay less its own round trip.
   */
  const probe = async (instance, key, revokedAt) => {
    let stillValid = 0;
    for (let attempt = 0; ; attempt++) {
      const sentAt = now();
      let code = null;
      try {
        code = judge(await verify(clients[instance], verifierToken, key.token), key, sentAt, instance, 'probe');
        probeAnswers++;
      } catch {
        transportErrors++;
      }
      const at = now();
      if (code === 'REVOKED') {
        if (attempt === 0) firstProbeRevoked++;
        return { delay: at - revokedAt, stillValid };
      }
      if (code === 'VALID') stillValid = Math.max(0, sentAt - revokedAt);
      if (at - revokedAt > giveUpMs) return { delay: null, stillValid };
    }
  };

  const delays = [];
  const stillValids = [];
  const revokeMs = [];
  const missed = [];
  const revokeFailures = [];
  try {
    await forEachLimited(keys.length, parallel, async (i) => {
      const key = keys[i];
      const origin = i % clients.length;
      const startedAt = now();
      const res = await clients[origin].call('DELETE', `/api/api-keys/${encodeURIComponent(key.id)}`, adminToken);
      const revokedAt = now();
      if (res.status < 200 || res.status > 299) {
        revokeFailures.push({ keyId: key.id, status: res.status, body: res.body });
        return;
      }
      ackAt.set(key.token, revokedAt);
      revokeMs.push(revokedAt - startedAt);
      const others = clients.map((_, n) => n).filter((n) => n !== origin);
      const results = await Promise.all(others.map((instance) => probe(instance, key, revokedAt)));
      results.forEach(({ delay, stillValid }, n) => {
        stillValids.push(stillValid);
        if (delay === null) missed.push({ keyId: key.id, instance: others[n] });
        else delays.push(delay);
      });
    });
  } finally {
    running = false;
    await Promise.all(load);
  }
  const loadSeconds = (now() - loadStartedAt) / 1000;

  // Past every revoke's bound, every instance must refuse every revoked key.
  const lastAck = Math.max(...ackAt.values());
  const wait = lastAck + boundMs - now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait + 5));
  let sweepValid = 0;
  for (const [instance, client] of clients.entries()) {
    await forEachLimited(keys.length, 8, async (i) => {
      const key = keys[i];
      if (!ackAt.has(key.token)) return;
      const sentAt = now();
      const code = judge(await verify(client, verifierToken, key.token), key, sentAt, instance, 'sweep');
      if (code === 'VALID') sweepValid++;
    });
  }

  delays.sort((a, b) => a - b);
  revokeMs.sort((a, b) => a - b);
  roundTrips.sort((a, b) => a - b);
  stillValids.sort((a, b) => a - b);
  const round = (n) => (n === null ? null : Math.round(n * 10) / 10);
  return {
    revokes: ackAt.size,
    pairs: delays.length + missed.length,
    delaysMs: delays.map(round),
    p50Ms: round(percentile(delays, 0.5)),
    p95Ms: round(percentile(delays, 0.95)),
    p99Ms: round(percentile(delays, 0.99)),
    maxMs: round(missed.length ? null : (delays.at(-1) ?? null)),
    firstProbeRevoked,
    stillValidP50Ms: round(percentile(stillValids, 0.5)),
    stillValidP99Ms: round(percentile(stillValids, 0.99)),
    stillValidMaxMs: round(stillValids.at(-1) ?? null),
    overBound: delays.filter((d) => d > boundMs).length + missed.length,
    missed,
    validAfterBound: violations.length,
    violations: violations.slice(0, 20),
    sweepValid,
    revokeFailures,
    revokeP50Ms: round(percentile(revokeMs, 0.5)),
    revokeP99Ms: round(percentile(revokeMs, 0.99)),
    verifyP50Ms: round(percentile(roundTrips, 0.5)),
    verifyP99Ms: round(percentile(roundTrips, 0.99)),
    loadAnswers,
    loadPerSecond: Math.round(loadAnswers / loadSeconds),
    probeAnswers,
    transportErrors,
    statuses: Object.fromEntries(statuses),
    codes: Object.fromEntries(codes),
  };
}

/**
 * Cuts the notifications every `everyMs`: terminates the instances' LISTEN connections (application
 * name `keyward-listen`) on `databaseUrl`'s database only, and, given `redisUrl`, drops Redis's
 * normal clients (`CLIENT KILL TYPE normal`: the publishers, not the subscribers). Use a Redis of
 * the caller's own: every normal client of that server is dropped.
 */
export async function cutNotifications({ databaseUrl, redisUrl = null, everyMs = 100 }) {
  const db = new pg.Client({ connectionString: databaseUrl, application_name: 'keyward-fanout-cutter' });
  await db.connect();
  const redis = redisUrl ? new Redis(redisUrl, { maxRetriesPerRequest: 1 }) : null;
  redis?.on('error', () => {});
  const totals = { rounds: 0, listenTerminated: 0, redisKilled: 0, errors: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const { rows } = await db.query(
          "select count(*)::int as n from (select pg_terminate_backend(pid) as done from pg_stat_activity where application_name = 'keyward-listen' and datname = current_database() and pid <> pg_backend_pid()) t where done",
        );
        totals.listenTerminated += rows[0].n;
        if (redis) totals.redisKilled += Number(await redis.client('KILL', 'TYPE', 'normal'));
        totals.rounds++;
      } catch {
        totals.errors++;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    totals,
    async stop() {
      running = false;
      await loop;
      await db.end();
      redis?.disconnect();
      return totals;
    },
  };
}
