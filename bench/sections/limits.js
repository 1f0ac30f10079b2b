// Section (j): what per-key rate limits and credits cost a verification (issue 14: at most 15% more
// server CPU for a key with one rate limit and credits than for a key without, in process and over
// HTTP on one instance; with Redis, the figure reported).
//   In process: bench/workers/limits-in-process.js, core's assembly on an in-memory store: CPU-time
//     rates of plain and metered keys, interleaved; the same in Redis mode (RedisKeyMeter); and the
//     instructions one verification of each kind executes (callgrind, V8 run with --predictable so that
//     the count repeats to a few parts in a million).
//   Over HTTP: Keyward's built server on a copy of the 10k-key database with 1,000 metered keys made
//     through its API; plain and metered keys at random, 50 connections, interleaved with every other
//     HTTP case; the same on a second server counting in Redis, when Redis answers on 127.0.0.1:6379.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { valgrindPath } from '../lib/callgrind.js';
import { BENCH_PERMISSION } from '../lib/keyward-db.js';
import { onExit, root, runNode, runProgram } from '../lib/processes.js';
import { HTTP_HEADERS, fixed, httpRow, int, pct, table } from '../lib/report.js';
import { startKeyward } from '../lib/servers.js';
import { variantsFile, warmEveryVariant } from '../lib/wrk.js';

const KEYS = 1000;
/** The bound the issue sets: a metered verification costs at most 15% more CPU than a plain one. */
const BOUND = 1.15;
const REDIS_URL = 'redis://127.0.0.1:6379';
const METERED = { rateLimits: [{ name: 'requests', limit: 1_000_000_000, windowSeconds: 86_400 }], credits: { remaining: 1_000_000_000 } };
/** Warm-up verifications of each kind under callgrind: enough that no compilation falls in the counted ones. */
const WARM_UNDER_CALLGRIND = 10_000;
const IDS = ['limits-plain', 'limits-metered', 'limits-redis-plain', 'limits-redis-metered'];

const verifyBody = (key) => JSON.stringify({ key, permission: BENCH_PERMISSION });

function redisAnswers() {
  try {
    return execFileSync('redis-cli', ['-u', REDIS_URL, 'ping'], { encoding: 'utf8', timeout: 2000 }).trim() === 'PONG';
  } catch {
    return false;
  }
}

async function createMeteredKeys(url, adminToken, count) {
  const tokens = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${url}/api/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `metered ${i}`, keyType: 'service', ...METERED }),
    });
    if (response.status !== 201) throw new Error(`creating a metered key answered ${response.status}: ${await response.text()}`);
    tokens.push((await response.json()).token);
  }
  return tokens;
}

/**
 * Instructions per verification of each kind: for each, the worker run with `count` and with twice as
 * many verifications after the same warm-up, at the same time on the two cores; the difference over
 * `count`. (Differencing two runs of the same kind keeps where V8's collections fall from tilting it.)
 */
async function instructions(count, log) {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-limits-'));
  const remove = onExit(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (kind, n, core) => {
    const out = join(dir, `${kind}-${n}.out`);
    const options = JSON.stringify({ keys: 100, warmCount: WARM_UNDER_CALLGRIND, count: n, kind });
    await runProgram(valgrindPath, ['--tool=callgrind', `--callgrind-out-file=${out}`, `--log-file=${join(dir, `${kind}-${n}.log`)}`, process.execPath, '--predictable', join(root, 'bench/workers/limits-in-process.js'), options], {
      core,
      label: `callgrind (${n} ${kind} verifications)`,
    });
    const total = /^summary:\s*(\d+)/m.exec(readFileSync(out, 'utf8'))?.[1];
    if (!total) throw new Error(`callgrind wrote no summary for ${n} ${kind} verifications`);
    return Number(total);
  };
  try {
    const started = Date.now();
    const perVerification = async (kind) => {
      log(`  callgrind: ${count.toLocaleString('en-US')} and ${(2 * count).toLocaleString('en-US')} ${kind} verifications`);
      const [once, twice] = await Promise.all([run(kind, count, 0), run(kind, 2 * count, 1)]);
      return (twice - once) / count;
    };
    const plain = await perVerification('plain');
    const metered = await perVerification('metered');
    return { count, plain, metered, seconds: Math.round((Date.now() - started) / 1000) };
  } finally {
    remove();
  }
}

export default {
  name: 'limits',
  databases: ['small'],

  async prepare(ctx) {
    const { log } = ctx;
    const small = await ctx.database('small');
    const plain = variantsFile('body', Array.from({ length: KEYS }, (_, i) => verifyBody(small.tokenOf(i).token)));
    const cases = [];
    const serve = async (label, env) => {
      // A thousand keys in a few seconds: the per-creator creation quota (R46) is off for this server.
      const server = ctx.track(await startKeyward(small, label, { KEYWARD_KEY_CREATIONS_PER_MINUTE: '0', ...env }));
      log(`limits: ${KEYS} metered keys (one rate limit and credits) made through ${label}'s API`);
      const metered = variantsFile('body', (await createMeteredKeys(server.url, small.adminToken, KEYS)).map(verifyBody));
      const base = {
        url: server.url,
        path: '/api/keys/verify',
        method: 'POST',
        headers: { authorization: `Bearer ${small.verifierToken}`, 'content-type': 'application/json' },
        pids: [server.pid],
        databaseFile: server.copy.databaseFile,
      };
      await warmEveryVariant({ ...base, variants: plain, label: 'plain (warm-up)' });
      await warmEveryVariant({ ...base, variants: metered, label: 'metered (warm-up)' });
      return { base, metered, profile: [{ pid: server.pid, label: 'Keyward' }] };
    };
    const local = await serve('keyward (limits)', {});
    cases.push(
      { id: IDS[0], section: 'limits', label: `verify, keys without limits (random of ${KEYS})`, connections: 50, target: { ...local.base, variants: plain, label: 'plain' }, profile: local.profile },
      { id: IDS[1], section: 'limits', label: `verify, keys with a rate limit and credits (random of ${KEYS})`, connections: 50, target: { ...local.base, variants: local.metered, label: 'metered' }, profile: local.profile },
    );
    ctx.results.limits = { redis: redisAnswers() };
    if (ctx.results.limits.redis) {
      const shared = await serve('keyward (limits, Redis)', { KEYWARD_REDIS_URL: REDIS_URL, KEYWARD_REDIS_PREFIX: `bench-limits-${process.pid}` });
      cases.push(
        { id: IDS[2], section: 'limits', label: `verify with Redis, keys without limits (random of ${KEYS})`, connections: 50, target: { ...shared.base, variants: plain, label: 'redis plain' }, profile: shared.profile },
        { id: IDS[3], section: 'limits', label: `verify with Redis, keys with a rate limit and credits (random of ${KEYS})`, connections: 50, target: { ...shared.base, variants: shared.metered, label: 'redis metered' }, profile: shared.profile },
      );
    } else log('limits: Redis does not answer on 127.0.0.1:6379: no Redis rows');
    return cases;
  },

  async run(ctx) {
    const { settings, log } = ctx;
    const r = (ctx.results.limits ??= { redis: redisAnswers() });
    const rounds = settings.quick ? 3 : 7;
    const worker = async (options) => JSON.parse(await runNode([join(root, 'bench/workers/limits-in-process.js'), JSON.stringify({ keys: KEYS, warmCount: 20_000, seconds: 1, rounds, ...options })], { core: 1, label: 'limits in process' }));
    log(`limits in process: ${KEYS} plain and ${KEYS} metered keys, ${rounds} interleaved rounds of 1 s each`);
    r.inProcess = await worker({});
    log(`  plain ${int(r.inProcess.plain)}/s, metered ${int(r.inProcess.metered)}/s of CPU time`);
    if (r.redis) {
      r.inProcessRedis = await worker({ redisUrl: REDIS_URL, warmCount: 2000 });
      log(`  with Redis: plain ${int(r.inProcessRedis.plain)}/s, metered ${int(r.inProcessRedis.metered)}/s of CPU time (each metered verification waits for its Redis round trip)`);
    }
    if (valgrindPath) {
      r.instructions = await instructions(settings.quick ? 10_000 : 40_000, log);
      log(`  ${int(r.instructions.plain)} instructions per plain verification, ${int(r.instructions.metered)} per metered one (${r.instructions.seconds} s)`);
    } else log('  valgrind is not installed: no instruction count (apt-get install -y valgrind)');
  },

  render(ctx, report) {
    const r = ctx.results.limits;
    if (!r || (!r.inProcess && !ctx.row(IDS[0]))) return;
    report.push('## (j) Rate limits and credits: what metering costs');
    report.push('');
    report.push(
      `\`bench/sections/limits.js\`. A **metered** key has one rate limit and credits (both too large to refuse anything: every verification is VALID and spends 1 from the window and the credits); a **plain** key has neither. Each verification asks for \`${BENCH_PERMISSION}\`.`,
    );
    report.push('');
    if (r.inProcess) {
      report.push(
        `In process: \`bench/workers/limits-in-process.js\`, core's \`createKeyVerification\` (the server's assembly) on an in-memory store, ${int(KEYS)} keys of each kind verified at random one at a time, plain and metered alternately for ${r.inProcess.runs.plain.length} rounds of 1 s; rates are verifications per second of the process's CPU time, medians. With Redis, the metered keys are counted in Redis (\`RedisKeyMeter\`, as instances sharing Redis count them): one at a time, each metered verification waits for its round trip, so that row shows latency more than CPU.`,
      );
      report.push('');
      const rows = [['core, in memory', int(r.inProcess.plain), int(r.inProcess.metered), fixed(r.inProcess.plain / r.inProcess.metered)]];
      if (r.inProcessRedis) rows.push(['core, counted in Redis', int(r.inProcessRedis.plain), int(r.inProcessRedis.metered), fixed(r.inProcessRedis.plain / r.inProcessRedis.metered)]);
      report.push(table(['meter', 'plain verifications/s (CPU time)', 'metered verifications/s (CPU time)', 'CPU per metered / per plain'], rows));
      report.push('');
    }
    if (r.instructions) {
      const c = r.instructions;
      report.push(
        `Instructions, which the machine's load does not move: the worker run under \`valgrind --tool=callgrind\` with V8's \`--predictable\` (no concurrent compilation or GC threads, so two runs of the same work differ by a few parts in a million), 100 keys of each kind verified once and ${int(WARM_UNDER_CALLGRIND)} times each as warm-up (so that V8's compilation is done before the count), then ${int(c.count)} more verifications of one kind in one run and ${int(2 * c.count)} in another; the difference over ${int(c.count)} (${c.seconds} s in all).`,
      );
      report.push('');
      report.push(table(['kind', 'instructions per verification'], [['plain', int(c.plain)], ['metered', int(c.metered)], ['metered / plain', fixed(c.metered / c.plain, 3)]]));
      report.push('');
    }
    const rows = IDS.map((id) => ctx.row(id)).filter(Boolean);
    if (rows.length) {
      const hello = ctx.row('hello-node');
      report.push(`Over HTTP: Keyward's built server on a copy of the 10k-key database, ${int(KEYS)} metered keys made through its API, every key verified once before; \`POST /api/keys/verify\` at 50 connections, interleaved with the other HTTP cases of the run.`);
      report.push('');
      report.push(table(HTTP_HEADERS, rows.map((row) => httpRow(row, hello))));
      report.push('');
    }
  },

  targets(ctx, report) {
    const r = ctx.results.limits;
    if (!r) return;
    if (r.instructions) {
      const ratio = r.instructions.metered / r.instructions.plain;
      report.target('in process: a verification with a rate limit and credits vs none (instructions, core)', `≤ ${fixed(BOUND)}×`, `${fixed(ratio, 3)}× (${int(r.instructions.metered)} vs ${int(r.instructions.plain)})`, ratio <= BOUND);
    } else if (r.inProcess) {
      const ratio = r.inProcess.plain / r.inProcess.metered;
      report.target('in process: a verification with a rate limit and credits vs none (CPU time, core)', `≤ ${fixed(BOUND)}×`, `${fixed(ratio)}×`, ratio <= BOUND);
    }
    const plain = ctx.row(IDS[0]);
    const metered = ctx.row(IDS[1]);
    if (plain && metered) {
      const ratio = metered.serverMicrosPerRequest / plain.serverMicrosPerRequest;
      report.target('over HTTP, one instance: server CPU per verification with a rate limit and credits vs none', `≤ ${fixed(BOUND)}×`, `${fixed(ratio)}× (${fixed(metered.serverMicrosPerRequest, 1)} vs ${fixed(plain.serverMicrosPerRequest, 1)} µs)`, ratio <= BOUND);
    }
    const redisPlain = ctx.row(IDS[2]);
    const redisMetered = ctx.row(IDS[3]);
    if (redisPlain && redisMetered) {
      report.why(
        `With Redis (reported, no bound): a metered verification cost ${fixed(redisMetered.serverMicrosPerRequest, 1)} µs of server CPU against ${fixed(redisPlain.serverMicrosPerRequest, 1)} µs for a plain one (${pct(redisMetered.serverMicrosPerRequest / redisPlain.serverMicrosPerRequest)}), at ${int(redisMetered.requestsPerSecond)} vs ${int(redisPlain.requestsPerSecond)} req/s, p99 ${fixed(redisMetered.p99Ms)} vs ${fixed(redisPlain.p99Ms)} ms: one Redis script per metered verification, pipelined by ioredis within an event-loop turn.`,
      );
    }
  },
};
