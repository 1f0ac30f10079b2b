// Section (b): `POST /api/keys/verify` over HTTP on SQLite, Keyward's built server with its default
// settings on a private copy of a cached database: valid keys at random of 10k at 10, 50 and 100
// connections, three kinds of rejected keys, and valid keys at random of the large set with every
// key in the server's cache; usage flushes during the runs, commits watched, and what the usage
// table holds once the server has stopped.

import { DEFAULT_KEY_PREFIX } from '@keyward/core';
import Database from 'better-sqlite3';
import { BENCH_PERMISSION } from '../lib/keyward-db.js';
import { stopChild } from '../lib/processes.js';
import { HTTP_HEADERS, fixed, httpRow, int, pct, profileLines, ratio, table } from '../lib/report.js';
import { startKeyward } from '../lib/servers.js';
import { variantsFile, warmEveryVariant } from '../lib/wrk.js';

const SMALL_KEYS = 10_000;
/** The server's usage flush interval (its default, set explicitly so that the report can say it). */
const USAGE_FLUSH_MS = 5000;
const VALID_IDS = ['verify-valid-10', 'verify-valid-50', 'verify-valid-100'];
const ALL_IDS = [...VALID_IDS, 'verify-unknown', 'verify-revoked', 'verify-checksum', 'verify-large'];

const verifyBody = (key) => JSON.stringify({ key, permission: BENCH_PERMISSION });

/** The same key with its checksum broken: refused before any cache or store work. */
function breakChecksum(token) {
  const last = token.at(-1);
  return token.slice(0, -1) + (last === 'A' ? 'B' : 'A');
}

async function verifyAnswer(url, verifierToken, key) {
  const response = await fetch(`${url}/api/keys/verify`, {
    method: 'POST',
    headers: { authorization: `Bearer ${verifierToken}`, 'content-type': 'application/json' },
    body: verifyBody(key),
  });
  if (response.status !== 200) throw new Error(`verify answered ${response.status}: ${await response.text()}`);
  return response.json();
}

async function expectCode(url, verifierToken, key, code, label) {
  const verdict = await verifyAnswer(url, verifierToken, key);
  if (verdict.code !== code) throw new Error(`${label}: expected ${code}, got ${JSON.stringify(verdict)}`);
}

/** The verifier cache's counters from /metrics, for the difference around each measured run. */
const cacheCounters = (server) => async () => {
  const m = await server.metrics();
  if (!m || m.keyward_verifier_cache_misses_total === undefined) return null;
  return { misses: m.keyward_verifier_cache_misses_total, hits: m.keyward_verifier_cache_hits_total ?? 0 };
};

/** After SIGTERM (the final usage flush): what the verifications left in the database. */
function inspectUsage(databaseFile, revokedTokens) {
  const db = new Database(databaseFile, { readonly: true });
  const usage = db
    .prepare("select count(*) as rows, coalesce(sum(case when code = 'VALID' then count end), 0) as valid, coalesce(sum(case when code <> 'VALID' then count end), 0) as rejected from usage")
    .get();
  const revokedIds = revokedTokens.map((t) => `key_${t.slice(DEFAULT_KEY_PREFIX.length, DEFAULT_KEY_PREFIX.length + 16)}`);
  const touched = db.prepare(`select count(*) as n from api_keys where last_used_at is not null and id in (${revokedIds.map(() => '?').join(',')})`).get(...revokedIds).n;
  db.close();
  return { ...usage, revokedKeysWithLastUsed: touched, revokedKeys: revokedIds.length };
}

export default {
  name: 'verify',
  databases: ['small', 'large'],

  async prepare(ctx) {
    const { settings, log } = ctx;
    const small = await ctx.database('small');
    const large = await ctx.database('large');
    log('starting Keyward on a copy of the 10k-key database');
    const keyward = ctx.track(await startKeyward(small, 'keyward (10k keys)', { KEYWARD_USAGE_FLUSH_MS: String(USAGE_FLUSH_MS) }));
    const { verifierToken } = small;
    // What the copy's usage table held before any verification (a cached database may have some).
    const usageBefore = inspectUsage(keyward.copy.databaseFile, small.revokedTokens);
    await expectCode(keyward.url, verifierToken, small.tokenOf(0).token, 'VALID', 'a stored key');
    await expectCode(keyward.url, verifierToken, small.unknownTokenOf(0).token, 'NOT_FOUND', 'an unknown key');
    await expectCode(keyward.url, verifierToken, small.revokedTokens[0], 'REVOKED', 'a revoked key');
    await expectCode(keyward.url, verifierToken, breakChecksum(small.tokenOf(0).token), 'NOT_FOUND', 'a bad checksum');
    const base = {
      url: keyward.url,
      path: '/api/keys/verify',
      method: 'POST',
      headers: { authorization: `Bearer ${verifierToken}`, 'content-type': 'application/json' },
      pids: [keyward.pid],
      databaseFile: keyward.copy.databaseFile,
    };
    const valid = variantsFile('body', Array.from({ length: SMALL_KEYS }, (_, i) => verifyBody(small.tokenOf(i).token)));
    log(`warming the server's cache with the ${SMALL_KEYS.toLocaleString('en-US')} keys`);
    await warmEveryVariant({ ...base, variants: valid, label: 'verify (warm-up)' });
    // Unknown keys: well-formed, stored nowhere, each presented once (in turn from a pool larger than
    // the run's requests at 60k/s; the report says if the pool had to wrap).
    const unknownPool = Math.ceil(((settings.warmupSeconds + settings.durationSeconds) * settings.rounds + settings.profileSeconds) * 60_000);
    log(`preparing ${unknownPool.toLocaleString('en-US')} unknown keys`);
    const unknown = variantsFile('body', Array.from({ length: unknownPool }, (_, i) => verifyBody(small.unknownTokenOf(i + 1).token)));
    const revoked = variantsFile('body', small.revokedTokens.map(verifyBody));
    const badChecksum = variantsFile('body', Array.from({ length: SMALL_KEYS }, (_, i) => verifyBody(breakChecksum(small.tokenOf(i).token))));
    const profile = [{ pid: keyward.pid, label: 'Keyward' }];
    const stats = cacheCounters(keyward);
    const cases = VALID_IDS.map((id, i) => ({
      id,
      section: 'verify',
      label: 'verify, valid keys (random of 10k)',
      connections: [10, 50, 100][i],
      target: { ...base, variants: valid, label: 'verify valid' },
      stats,
      profile,
    }));
    cases.push(
      { id: 'verify-unknown', section: 'verify', label: 'verify, rejected: unknown keys (a new key each request)', connections: 50, target: { ...base, variants: unknown, order: 'cycle', label: 'unknown' }, stats, profile },
      { id: 'verify-revoked', section: 'verify', label: `verify, rejected: revoked keys (random of ${small.revokedTokens.length})`, connections: 50, target: { ...base, variants: revoked, label: 'revoked' }, stats, profile },
      { id: 'verify-checksum', section: 'verify', label: 'verify, rejected: bad checksum (random of 10k)', connections: 50, target: { ...base, variants: badChecksum, label: 'checksum' }, stats, profile },
    );

    const stored = large.keyCount;
    const count = settings.largeVerified;
    log(`starting Keyward on a copy of the ${stored.toLocaleString('en-US')}-key database`);
    const big = ctx.track(await startKeyward(large, `keyward (${stored} keys)`, { KEYWARD_USAGE_FLUSH_MS: String(USAGE_FLUSH_MS) }));
    await expectCode(big.url, large.verifierToken, large.tokenOf(stored - 1).token, 'VALID', 'a stored key of the large database');
    const bigTarget = {
      ...base,
      url: big.url,
      headers: { ...base.headers, authorization: `Bearer ${large.verifierToken}` },
      pids: [big.pid],
      databaseFile: big.copy.databaseFile,
      variants: variantsFile('body', Array.from({ length: count }, (_, i) => verifyBody(large.tokenOf(i).token))),
      label: 'large',
    };
    log(`warming the large server's cache with ${count === stored ? 'every one' : count.toLocaleString('en-US')} of its ${stored.toLocaleString('en-US')} keys`);
    const warm = await warmEveryVariant(bigTarget);
    log(`  ${Math.round(warm.requests / warm.seconds)} verifications/s while warming`);
    const metrics = await big.metrics();
    cases.push({
      id: 'verify-large',
      section: 'verify',
      label: `verify, valid keys (random of ${count.toLocaleString('en-US')}${count === stored ? '' : ` of ${stored.toLocaleString('en-US')} stored`}, each verified once before)`,
      connections: 50,
      target: bigTarget,
      stats: cacheCounters(big),
      profile: [{ pid: big.pid, label: 'Keyward' }],
    });
    ctx.results.verify = {
      keyward,
      usageBefore,
      revokedTokens: small.revokedTokens,
      largeKeys: count,
      largeStored: stored,
      largeWarm: { ...warm, cacheEntries: metrics?.keyward_verifier_cache_entries ?? null },
      unknownPool,
    };
    return cases;
  },

  async afterHttp(ctx) {
    const v = ctx.results.verify;
    // SIGTERM flushes usage; then the database says what the verifications wrote.
    await stopChild(v.keyward.child);
    const after = inspectUsage(v.keyward.copy.databaseFile, v.revokedTokens);
    const before = v.usageBefore;
    v.usage = { ...after, rows: after.rows - before.rows, valid: after.valid - before.valid, rejected: after.rejected - before.rejected, revokedKeysWithLastUsed: after.revokedKeysWithLastUsed - before.revokedKeysWithLastUsed };
    ctx.log(`usage after SIGTERM: ${v.usage.valid} valid and ${v.usage.rejected} rejected verifications counted in ${v.usage.rows} rows; revoked keys with lastUsedAt: ${v.usage.revokedKeysWithLastUsed}`);
  },

  render(ctx, report) {
    if (!ctx.row('verify-valid-50')) return;
    const v = ctx.results.verify;
    const hello = ctx.row('hello-node');
    const rows = ALL_IDS.map(ctx.row).filter(Boolean);
    report.push('## (b) `POST /api/keys/verify` over HTTP on SQLite');
    report.push('');
    report.push(
      `Keyward's built server (\`serve\`, default settings) on a copy of a cached database. A verifier credential (\`keyward admin create-verifier\`) asks for \`traces:read\` for a key drawn at random on every request (wrk picks a prepared body per request); keys are service keys bound to one project. Before the runs every one of the 10k keys was verified once, and ${v.largeKeys === v.largeStored ? 'every one' : int(v.largeKeys)} of the ${int(v.largeStored)} keys of the large server (${int(Math.round(v.largeWarm.requests / v.largeWarm.seconds))} verifications/s while warming; its cache then held ${int(v.largeWarm.cacheEntries)} entries by \`/metrics\`). Unknown keys are well-formed keys stored nowhere, each presented once${rows.find((r) => r.id === 'verify-unknown')?.keysRepeated ? ` (the pool of ${int(v.unknownPool)} was exhausted and wrapped: some were presented again)` : ` (from a pool of ${int(v.unknownPool)}, not exhausted)`}.`,
    );
    report.push('');
    report.push(table(HTTP_HEADERS, rows.map((row) => httpRow(row, hello))));
    report.push('');
    const commitsOf = (row) => (row?.commitPolls ? `${row.commitPolls.changed} of ${row.commitPolls.polls}` : 'n/a');
    const missesOf = (row) => (row?.statsDelta ? int(row.statsDelta.misses) : 'n/a');
    report.push(`Database writes and store reads: another connection polled SQLite's \`data_version\` every 50 ms during the measured runs (it changes when the server commits: usage is flushed in one transaction every ${USAGE_FLUSH_MS / 1000} s, \`KEYWARD_USAGE_FLUSH_MS\`, so a few polls see a commit; one write per verification would change it at every poll); the verifier cache's misses (\`keyward_verifier_cache_misses_total\` of \`/metrics\`) were read before and after each measured run.`);
    report.push('');
    report.push(table(['case', 'verifications measured', 'polls that saw a commit', 'cache misses (store reads)'], rows.map((row) => [`${row.label} @${row.connections}`, int(row.total), commitsOf(row), missesOf(row)])));
    report.push('');
    if (v.usage) {
      const u = v.usage;
      const answeredValid = VALID_IDS.map(ctx.row).filter(Boolean).reduce((sum, row) => sum + row.answered, 0) + 1;
      const answeredRevoked = (ctx.row('verify-revoked')?.answered ?? 0) + 1;
      report.push(
        `After the run the 10k-key server was stopped with SIGTERM (which flushes usage). Its usage table had gained ${int(u.valid)} valid and ${int(u.rejected)} rejected verifications in ${int(u.rows)} per-key, per-minute rows; wrk had counted ${int(answeredValid)} valid and ${int(answeredRevoked)} revoked answers from it in the measured and warm-up runs and the checks before them (not the warming pass nor the profiled runs; a request in flight when a run stops is answered and counted by the server but not by wrk). Unknown keys and bad checksums belong to no key and are not counted. ${u.revokedKeysWithLastUsed} of the ${u.revokedKeys} revoked keys had gained a \`lastUsedAt\`.`,
      );
      report.push('');
    }
    const profiles = profileLines(rows);
    if (profiles.length) {
      report.push("Where the server spent its CPU time, from one more run per case with its CPU profiler on (self time; shares of the time it was not idle):");
      report.push('');
      report.push(...profiles);
      report.push('');
    }
  },

  targets(ctx, report) {
    const v50 = ctx.row('verify-valid-50');
    if (!v50) return;
    const v = ctx.results.verify;
    const hello = ctx.row('hello-node');
    const echo = ctx.row('echo-node');
    const large = ctx.row('verify-large');
    if (hello) {
      const r = ratio(v50.requestsPerSecond, hello.requestsPerSecond);
      report.target('verify @50 (random of 10k) vs node:http hello-world', '≥ 70%', `${pct(r)} (${int(v50.requestsPerSecond)} / ${int(hello.requestsPerSecond)} req/s)`, r >= 0.7);
    }
    if (echo) {
      const r = ratio(v50.requestsPerSecond, echo.requestsPerSecond);
      report.target('verify @50 (random of 10k) vs node:http POST-JSON echo', '≥ 70%', `${pct(r)} (${int(v50.requestsPerSecond)} / ${int(echo.requestsPerSecond)} req/s)`, r >= 0.7);
    }
    if (hello) {
      const r = ratio(v50.serverMicrosPerRequest, hello.serverMicrosPerRequest);
      report.target('server CPU per verification vs per node:http hello-world', '≤ 1.5×', `${fixed(r)}× (${fixed(v50.serverMicrosPerRequest, 1)} vs ${fixed(hello.serverMicrosPerRequest, 1)} µs)`, r !== null && r <= 1.5);
    }
    const least = ctx.row('least-node');
    if (least && hello) {
      // Not a target: the floor the two above are judged against, what node:http alone allows.
      const r = ratio(least.requestsPerSecond, hello.requestsPerSecond);
      const cpu = ratio(least.serverMicrosPerRequest, hello.serverMicrosPerRequest);
      report.target(
        'the floor: node:http least verification vs node:http hello-world (reference, not judged)',
        'n/a',
        `${pct(r)} of its req/s (${int(least.requestsPerSecond)} / ${int(hello.requestsPerSecond)}); ${fixed(cpu)}× its CPU (${fixed(least.serverMicrosPerRequest, 1)} vs ${fixed(hello.serverMicrosPerRequest, 1)} µs); verify reaches ${pct(ratio(v50.requestsPerSecond, least.requestsPerSecond))} of the floor`,
        null,
      );
    }
    const flushes = v50.commitPolls?.changed ?? 0;
    report.target('verify p99 @50, with usage flushes during the runs', '< 5 ms, flushes seen', `${fixed(v50.p99Ms, 3)} ms (p99.9 ${fixed(v50.p999Ms, 3)} ms, max ${fixed(v50.maxMs, 3)} ms); commits seen in ${flushes} of ${v50.commitPolls?.polls ?? 'n/a'} polls`, v50.p99Ms < 5 && flushes > 0);
    if (large && hello) {
      const r = ratio(large.requestsPerSecond, hello.requestsPerSecond);
      const misses = large.statsDelta?.misses;
      const million = v.largeKeys >= 1_000_000 ? '' : `; ${int(v.largeKeys)} keys, not 1M: not judged`;
      report.target(
        `verify with ${int(v.largeKeys)} keys at random vs node:http hello-world, every key cached`,
        '≥ 40%, 1M keys, no store read',
        `${pct(r)} (${int(large.requestsPerSecond)} / ${int(hello.requestsPerSecond)} req/s); ${misses === undefined ? 'cache misses not reported' : `${int(misses)} cache misses in ${int(large.total)} verifications`}${million}`,
        v.largeKeys >= 1_000_000 && misses !== undefined ? r >= 0.4 && misses === 0 : null,
      );
    }
    for (const id of ['verify-unknown', 'verify-revoked', 'verify-checksum']) {
      const row = ctx.row(id);
      if (!row) continue;
      // Cost is server CPU per request; 10% is left for the noise of CPU accounting on a shared machine.
      const cost = ratio(row.serverMicrosPerRequest, v50.serverMicrosPerRequest);
      report.target(`${row.label.replace('verify, ', '')}: cost vs valid`, '≤ valid (server CPU per request, +10% noise)', `${fixed(row.serverMicrosPerRequest, 1)} vs ${fixed(v50.serverMicrosPerRequest, 1)} µs (${fixed(cost)}×); ${int(row.requestsPerSecond)} vs ${int(v50.requestsPerSecond)} req/s`, cost !== null && cost <= 1.1);
    }
    const polled = ALL_IDS.map(ctx.row).filter(Boolean);
    const changed = polled.reduce((s, r) => s + (r.commitPolls?.changed ?? 0), 0);
    const total = polled.reduce((s, r) => s + (r.commitPolls?.polls ?? 0), 0);
    const verifications = polled.reduce((s, r) => s + r.total, 0);
    const { settings } = ctx;
    // At most one flush per interval (plus one at a boundary) per measured run.
    const allowed = polled.length * settings.rounds * (Math.ceil((settings.durationSeconds * 1000) / USAGE_FLUSH_MS) + 1);
    report.target('no database write per verification', 'batched usage flushes only', `${int(verifications)} verifications; commits seen in ${changed} of ${total} 50-ms polls (flushes allow ${allowed})`, changed <= allowed);
    if (v.usage) report.target('rejected keys never written (lastUsedAt)', '0 revoked keys touched', `${v.usage.revokedKeysWithLastUsed} of ${v.usage.revokedKeys}`, v.usage.revokedKeysWithLastUsed === 0);
    // The why of each row, from its profile.
    for (const row of [v50, large].filter(Boolean)) for (const p of row.profiles ?? []) report.why(`${row.label} @${row.connections} (${p.label}): ${p.text}.`);
    for (const row of [hello, echo, least].filter(Boolean)) for (const p of row.profiles ?? []) report.why(`${row.label} @${row.connections}: ${p.text}.`);
  },
};
