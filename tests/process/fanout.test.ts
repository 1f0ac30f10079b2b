import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable } from '@keyward/store/testing';
import { createKeys, cutNotifications, instanceClient, measureFanout, warmCaches, type FanoutResult, type InstanceClient, type NotificationCutter } from '../../bench/lib/fanout.js';
import { databaseForProcess, freePort, runCli, startServerProcess, type DatabaseForProcess, type ServerProcess } from '../support/process.js';
import { redisServerAvailable, startOwnRedis, type OwnRedis } from '../support/redis-server.js';

/**
 * CONTRACT.md, "Several instances and operations", and issue 11's "Measured fan-out": three server
 * processes (the built dist) on one PostgreSQL database, under verification load, revoke keys round
 * robin; after each revoke's 2xx the two other instances are probed in a tight loop until they answer
 * REVOKED. No VALID answer may come more than 1 s after a revoke's 2xx, whatever is lost; with
 * LISTEN/NOTIFY or Redis working the delay's p99 is at most 50 ms. The measurement is
 * bench/lib/fanout.js, the same code as the benchmark's fan-out rows (`node bench/run.js --only
 * fanout`, 1,000 revokes per mode, in docs/benchmarks.md).
 *
 * Needs `npx tsc -b packages/server packages/cli packages/sdk` first. KEYWARD_FANOUT_REVOKES sets the
 * number of revokes per mode (default 200).
 * @see issue 11
 */

const ci = process.env.CI === 'true';
const withPostgres = ci || (await postgresAvailable());
const withRedis = ci || (await redisServerAvailable());
if (!withPostgres) console.warn('SKIPPED: the fan-out test needs PostgreSQL on 127.0.0.1:5432 (under CI=true it fails instead).');
if (!withRedis) console.warn('SKIPPED: the fan-out modes with Redis need redis-server on the PATH (under CI=true they fail instead).');

const REVOKES = Number(process.env.KEYWARD_FANOUT_REVOKES ?? 200);
const BOUND_MS = 1000;
const P99_TARGET_MS = 50;
/** Below this many revokes the p99 is a handful of samples, too noisy on a shared machine to assert. */
const P99_MIN_REVOKES = 200;
/**
 * The delay includes one verification round trip, and on a machine whose other processes take the
 * cores a plain round trip alone can exceed 50 ms. The p99 target is judged when a plain verification's
 * round trip during the run had a p99 at most this (a machine quiet enough to measure 50 ms); else the
 * test says so and why, and asserts the 1 s bound, the VALID count and the propagation's own share of
 * the delay (the last probe still answered VALID was sent within 50 ms of the 2xx, at p99).
 */
const QUIET_ROUND_TRIP_P99_MS = 20;

interface Mode {
  readonly name: string;
  readonly redis: boolean;
  /** Terminate the LISTEN connections and kill Redis's publishers every 100 ms during the run. */
  readonly cut: boolean;
}

const modes: Mode[] = [
  { name: 'without Redis (LISTEN/NOTIFY, the log polled)', redis: false, cut: false },
  { name: 'with Redis', redis: true, cut: false },
  { name: 'with notifications cut (LISTEN connections terminated, Redis publishers killed, every 100 ms)', redis: true, cut: true },
];

function describeResult(result: FanoutResult, cutter: NotificationCutter['totals'] | null): string {
  const { delaysMs: _, ...rest } = result;
  return JSON.stringify({ ...rest, cutter });
}

/** Starts an instance and waits until it printed its own URL (the port answering could be another process's). */
async function startInstance(env: Record<string, string>): Promise<ServerProcess> {
  const server = startServerProcess(env, await freePort());
  await server.ready();
  const deadline = Date.now() + 5000;
  while (!server.output().includes(`running at ${server.url}`)) {
    if (Date.now() > deadline || server.child.exitCode !== null) throw new Error(`instance at ${server.url} did not start: ${server.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return server;
}

describe.runIf(withPostgres)('fan-out of a revoke to 3 instances on PostgreSQL', () => {
  // One database and organization for the three modes (each mode revokes keys of its own), and one
  // redis-server of the file's own for the modes with Redis: CLIENT KILL must harm no other test.
  let db: DatabaseForProcess;
  let redis: OwnRedis | null = null;
  let adminToken: string;
  let verifierToken: string;

  beforeAll(async () => {
    db = await databaseForProcess('postgres');
    if (withRedis) redis = await startOwnRedis();
    // Operator commands refuse a store that was never migrated: migrate first, as an operator would.
    const migrated = await runCli(['migrate'], db.env);
    if (migrated.code !== 0) throw new Error(`migrate: ${migrated.stderr}`);
    const org = await runCli(['admin', 'create-org', '--name', 'Fanout', '--owner-email', 'fanout@example.test', '--json'], db.env);
    if (org.code !== 0) throw new Error(`create-org: ${org.stderr}`);
    adminToken = JSON.parse(org.stdout).adminKey.token;
    const verifier = await runCli(['admin', 'create-verifier', '--name', 'gateway', '--json'], db.env);
    if (verifier.code !== 0) throw new Error(`create-verifier: ${verifier.stderr}`);
    verifierToken = JSON.parse(verifier.stdout).token;
  }, 120_000);

  afterAll(async () => {
    await redis?.stop();
    await db?.drop();
  });

  for (const mode of modes) describe.runIf(!mode.redis || withRedis)(mode.name, () => {
    const servers: ServerProcess[] = [];
    let clients: InstanceClient[] = [];

    beforeAll(async () => {
      const env = {
        ...db.env,
        KEYWARD_KEY_CREATIONS_PER_MINUTE: '0',
        KEYWARD_AUTH_FAILURES_PER_MINUTE: '0',
        ...(mode.redis ? { KEYWARD_REDIS_URL: redis!.url } : {}),
      };
      servers.push(...(await Promise.all([0, 1, 2].map(() => startInstance(env)))));
      clients = servers.map((server) => instanceClient(server.url));
    }, 120_000);

    afterAll(async () => {
      for (const client of clients) client.close();
      for (const server of servers) await server.stop('SIGKILL');
    });

    it(`refuses every revoked key on every instance within ${BOUND_MS} ms of the revoke's 2xx${mode.cut ? '' : `, p99 <= ${P99_TARGET_MS} ms`} (${REVOKES} revokes)`, async () => {
      const keys = await createKeys(clients[0]!, adminToken, REVOKES);
      await warmCaches(clients, verifierToken, keys);
      const cutter = mode.cut ? await cutNotifications({ databaseUrl: db.env.KEYWARD_DATABASE_URL!, redisUrl: redis?.url ?? null, everyMs: 100 }) : null;
      let result: FanoutResult;
      let cut: NotificationCutter['totals'] | null = null;
      try {
        result = await measureFanout({ clients, adminToken, verifierToken, keys, parallel: 4, loadLoops: 1, boundMs: BOUND_MS });
      } finally {
        cut = (await cutter?.stop()) ?? null;
      }
      const summary = describeResult(result, cut);
      console.log(`fan-out ${mode.name}: ${summary}`);

      expect(result.revokeFailures, summary).toEqual([]);
      expect(result.revokes).toBe(REVOKES);
      expect(result.pairs).toBe(2 * REVOKES);
      // The bound, in every mode: every other instance answered REVOKED within 1 s, and nothing
      // (probe, load or the final sweep) was VALID past it.
      expect(result.missed, summary).toEqual([]);
      expect(result.overBound, summary).toBe(0);
      expect(result.validAfterBound, summary).toBe(0);
      expect(result.sweepValid, summary).toBe(0);
      expect(result.statuses, summary).toEqual({ 200: expect.any(Number) });
      expect(result.loadAnswers).toBeGreaterThan(0);
      if (cut) {
        // The fault really happened during the run.
        expect(cut.listenTerminated, summary).toBeGreaterThan(0);
        expect(cut.redisKilled, summary).toBeGreaterThan(0);
        return;
      }
      if (REVOKES < P99_MIN_REVOKES) {
        console.warn(`fan-out ${mode.name}: p99 <= ${P99_TARGET_MS} ms NOT JUDGED: ${REVOKES} revokes, fewer than ${P99_MIN_REVOKES} (measured p99 ${result.p99Ms} ms).`);
        return;
      }
      // Judged however loaded the machine: the propagation's own share of the delay. An instance
      // still answered VALID to a probe sent this long after the 2xx; with the wake-up working (NOTIFY,
      // or Redis) that is a few ms, with only the 200 ms poll it is about 200 ms at p99.
      expect(result.stillValidP99Ms, `p99 of the time from a revoke's 2xx to the last probe still answered VALID, target ${P99_TARGET_MS} ms: ${summary}`).toBeLessThanOrEqual(P99_TARGET_MS);
      if (result.verifyP99Ms! > QUIET_ROUND_TRIP_P99_MS) {
        console.warn(
          `fan-out ${mode.name}: p99 <= ${P99_TARGET_MS} ms NOT JUDGED: the machine is too loaded to measure it: a plain verification's round trip had a p99 of ${result.verifyP99Ms} ms ` +
            `(judged at ${QUIET_ROUND_TRIP_P99_MS} ms or less). Measured delay p99 ${result.p99Ms} ms, p50 ${result.p50Ms} ms; ${result.firstProbeRevoked} of ${result.pairs} pairs were REVOKED at the first probe (a delay of one round trip); the last probe answered VALID was sent ${result.stillValidP99Ms} ms after the 2xx at p99.`,
        );
        return;
      }
      expect(result.p99Ms, `p99 of the delay from a revoke's 2xx to REVOKED on another instance, target ${P99_TARGET_MS} ms: ${summary}`).toBeLessThanOrEqual(P99_TARGET_MS);
    }, 240_000);
  });
});
