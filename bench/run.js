// `npm run bench`: Keyward's verification and token issuance measured side by side, in one run on
// one machine, with the ceiling of the HTTP framework and the peers (Better Auth's API-key plugin,
// oidc-provider), and written to docs/benchmarks.md with the machine's description.
//
//   npm run bench                          full run (8 to 10 minutes, and 4 to 8 more for fan-out), writes docs/benchmarks.md
//   node bench/run.js --quick              short runs, one round; writes bench/results/latest.md
//   node bench/run.js --only verify,sdk    some sections (ceiling is added for the ratios)
//   node bench/run.js --only fanout        the fan-out rows alone (3 instances on PostgreSQL, bench/fanout.js);
//                                          they replace section (h) of docs/benchmarks.md in place
//   options: --duration <s> --rounds <n> --keys <n> (default 1000000) --write (docs even when partial)
//            --note "<text>" (a line about the conditions, printed with the machine's description)
//            --revokes <n> (fan-out: revokes per mode, default 1000)
//
// Method (shared/BENCHMARKING.md): every server is its own process pinned to core 0, the load
// generator (autocannon, this process) runs on core 1; HTTP cases are interleaved round by round
// (case 1, case 2, ..., then again) and medians reported; ratios are taken against the hello-world
// server measured in the same run. Progress goes to stderr; the report goes to stdout.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { checksumOf, DEFAULT_KEY_PREFIX } from '@keyward/core';
import Database from 'better-sqlite3';
import { runConsoleLoadBench } from './console-load.js';
import { renderFanout, runFanoutBench, spliceFanout } from './fanout.js';
import { runOAuthIssuanceBench } from './oauth-issuance.js';
import { betterAuthDatabase } from './lib/better-auth.js';
import { BENCH_PERMISSION, keywardDatabase } from './lib/keyward-db.js';
import { measure, nextIndex } from './lib/load.js';
import { canPin, freePort, median, pinSelf, root, runNode, serverMain, startNode, stopChild, waitForHttp } from './lib/processes.js';

const SECTIONS = ['ceiling', 'verify', 'sdk', 'inprocess', 'betterauth', 'oauth', 'console', 'fanout'];
const BETTER_AUTH_KEYS = 1000;
const SMALL_KEYS = 10_000;

function parseArgs(argv) {
  const value = (name) => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const only = value('only')?.split(',').map((s) => s.trim()).filter(Boolean) ?? null;
  for (const name of only ?? []) if (!SECTIONS.includes(name)) throw new Error(`--only: unknown section "${name}" (sections: ${SECTIONS.join(', ')})`);
  const sections = new Set(only ?? SECTIONS);
  if (sections.has('verify') || sections.has('sdk')) sections.add('ceiling');
  return {
    quick,
    sections,
    partial: Boolean(only),
    durationSeconds: Number(value('duration') ?? (quick ? 2 : 6)),
    rounds: Number(value('rounds') ?? (quick ? 1 : 3)),
    warmupSeconds: quick ? 1 : 1,
    inProcessSeconds: quick ? 1 : 4,
    keys: Number(value('keys') ?? 1_000_000),
    revokes: Number(value('revokes') ?? (quick ? 100 : 1000)),
    write: argv.includes('--write') || (!quick && !only),
    note: value('note') ?? null,
  };
}

/** What profiling showed about the targets this build misses (kept with the code that prints them). */
const WHY_MISSED = [
  '- **Verify over HTTP.** A verification costs the server about 100 µs of CPU where Fastify\'s hello-world costs about 25 µs. Profiles of the server under load put about a quarter of that in writing the answer (one `writev` per response, as for hello), and the rest in small pieces: authenticating the verifier credential (an HMAC per request, about 5 µs), the JSON body parse and validation, the verification itself (about 10 µs, see in-process), the usage counter, and garbage collection. A rejected key with a broken checksum, which does no key work at all, still costs about 70 µs, so most of the gap is the request pipeline around the verifier, not the verifier. Not closed in this build.',
  '- **p99.** The usage flush (every 5 s) writes one row per key and minute in one SQLite transaction on the event loop; the loop is stalled for as long as that write takes, which grows with the number of keys in use in the interval, and those stalls are the likely source of the p99 (not profiled per request). `lastUsedAt` is already throttled to once a minute per key; moving the flush off the event loop (a worker thread) is the next step.',
  '- **One million keys at random.** The verdict cache holds 100,000 keys (about 5 KB of heap each), so nine requests in ten read SQLite: a cold verification costs about 100 µs in process. Prepared statements are kept, which made cold verifications about 60% faster; a leaner cache entry would let more keys fit in the same memory.',
  '- **In process.** About 10 µs per verification over 10,000 random keys (about 4.5 µs for one hot key): the HMAC-SHA-256 of the secret (about 1 µs), the checksum, the LRU lookup, and memory traffic over thousands of cached records. The permission decision is memoized per key, project and ask.',
  '- **Better Auth over HTTP.** Keyward\'s side of the ratio is the verify endpoint above; Better Auth is measured with its fastest SQLite setting (synchronous NORMAL). Against synchronous FULL, the durability Keyward\'s own store uses, the ratio is near 20×.',
].join('\n');

const log = (line) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function describeMachine() {
  let model = cpus()[0]?.model ?? 'unknown';
  let mhz = cpus()[0]?.speed ?? null;
  let flags = '';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    model = /model name\s*:\s*(.+)/.exec(info)?.[1] ?? model;
    mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(info)?.[1] ?? mhz);
    flags = /flags\s*:\s*(.+)/.exec(info)?.[1] ?? '';
  } catch {
    // not Linux
  }
  let hypervisor = flags.includes('hypervisor') ? 'virtual machine' : 'no hypervisor flag';
  let os = `${type()} ${release()}`;
  try {
    os = /PRETTY_NAME="(.+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] + ` (kernel ${release()})`;
  } catch {
    // keep the kernel name
  }
  return { model, mhz, cores: cpus().length, memoryGb: Math.round(totalmem() / 1e9), os, hypervisor };
}

function stealSnapshot() {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const numbers = fields.map(Number);
    return { steal: numbers[7] ?? 0, total: numbers.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

async function verifyAnswer(url, verifierToken, key) {
  const response = await fetch(`${url}/api/keys/verify`, {
    method: 'POST',
    headers: { authorization: `Bearer ${verifierToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ key, permission: BENCH_PERMISSION }),
  });
  if (response.status !== 200) throw new Error(`verify answered ${response.status}: ${await response.text()}`);
  return response.json();
}

async function expectCode(url, verifierToken, key, code, label) {
  const verdict = await verifyAnswer(url, verifierToken, key);
  if (verdict.code !== code) throw new Error(`${label}: expected ${code}, got ${JSON.stringify(verdict)}`);
}

/** Keyward's server on a private copy of a cached database, pinned to core 0. */
async function startKeyward(db, label) {
  const copy = db.copyForRun();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    KEYWARD_DATABASE_URL: `sqlite:${copy.databaseFile}`,
    KEYWARD_PORT: String(port),
    KEYWARD_HOST: '127.0.0.1',
    KEYWARD_PUBLIC_URL: url,
    KEYWARD_LOG_LEVEL: 'warn',
    KEYWARD_CONSOLE_DIR: '',
  };
  const { child, output } = await startNode([serverMain, 'serve'], { env, core: 0, label });
  await waitForHttp(`${url}/healthz`);
  return { child, url, copy, output, pid: child.pid };
}

async function startScript(script, args, { env = {}, label }) {
  const port = await freePort();
  const { child } = await startNode([join(root, script), String(port), ...args], { env, core: 0, label, ready: (out) => out.includes('listening') });
  return { child, url: `http://127.0.0.1:${port}`, pid: child.pid };
}

/** A well-formed key (correct checksum) with a lookup id drawn at random: unknown to the server, never cached. */
function freshUnknownKey() {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let lookupId = '';
  for (let i = 0; i < 16; i++) lookupId += alphabet[nextIndex(62)];
  const signed = `${DEFAULT_KEY_PREFIX}${lookupId}_Unknownsecret0000000000000000000000000000000`;
  return signed + checksumOf(signed);
}

/** The same key with its checksum broken: refused before any cache or store work. */
function breakChecksum(token) {
  const last = token.at(-1);
  return token.slice(0, -1) + (last === 'A' ? 'B' : 'A');
}

const verifyBody = (key) => JSON.stringify({ key, permission: BENCH_PERMISSION });

/** Sends every request of `requests` once, `concurrency` at a time: caches hold the whole key set before measuring. */
async function prewarm(requests, concurrency = 50) {
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const { url, init } = requests[next++];
      const response = await fetch(url, init);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`warming ${url}: ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function runHttpCases(cases, settings) {
  const runs = new Map(cases.map((c) => [c.id, []]));
  const answered = new Map(cases.map((c) => [c.id, 0]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const c of cases) {
      const warmup = await measure(c.target, { connections: c.connections, durationSeconds: settings.warmupSeconds });
      const run = await measure(c.target, { connections: c.connections, durationSeconds: settings.durationSeconds });
      runs.get(c.id).push(run);
      answered.set(c.id, answered.get(c.id) + warmup.total + run.total);
      log(
        `round ${round}/${settings.rounds} ${c.label} @${c.connections}: ${Math.round(run.requestsPerSecond)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms` +
          ` (server CPU ${run.serverCpu}%, loader CPU ${run.loaderCpu}%${run.errors ? `, ${run.errors} errors/timeouts` : ''}${run.commitPolls ? `, commits seen in ${run.commitPolls.changed}/${run.commitPolls.polls} polls` : ''})`,
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
          serverCpu,
          loaderCpu: median(list.map((r) => r.loaderCpu)),
          serverMicrosPerRequest: rps > 0 ? Math.round(((serverCpu / 100) * 1e6) / rps) : null,
          total: list.reduce((s, r) => s + r.total, 0),
          answered: answered.get(c.id),
          errors: list.reduce((s, r) => s + r.errors, 0),
          commitPolls: list[0].commitPolls
            ? { changed: list.reduce((s, r) => s + r.commitPolls.changed, 0), polls: list.reduce((s, r) => s + r.commitPolls.polls, 0) }
            : null,
        },
      ];
    }),
  );
}

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

async function main() {
  const settings = parseArgs(process.argv.slice(2));
  const { sections } = settings;
  pinSelf();
  const machine = describeMachine();
  const startedAt = new Date();
  const load = [loadavg()[0]];
  const stealStart = stealSnapshot();
  const quote = (arg) => (/^[\w./,=:-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\$`])/g, '\\$1')}"`);
  const command = ['node bench/run.js', ...process.argv.slice(2).map(quote)].join(' ');
  log(`${machine.model}, ${machine.cores} cores, node ${process.version}; sections: ${[...sections].join(', ')}${canPin ? '; servers on core 0, load generator on core 1' : '; no taskset: processes are not pinned'}`);

  const needSmall = sections.has('verify') || sections.has('sdk') || sections.has('inprocess');
  const needLarge = sections.has('verify') || sections.has('inprocess');
  const small = needSmall ? await keywardDatabase(SMALL_KEYS, { log }) : null;
  const large = needLarge ? await keywardDatabase(settings.keys, { revokedCount: 0, log }) : null;
  const betterAuth = sections.has('betterauth') ? await betterAuthDatabase(BETTER_AUTH_KEYS, { log }) : null;

  const results = { http: null, usage: null, inProcess: {}, betterAuthInProcess: null, oauth: null, console: null, fanout: null };
  const servers = [];
  const stopAll = async () => {
    for (const server of servers.splice(0)) {
      await stopChild(server.child);
      server.copy?.remove();
    }
  };

  try {
    const cases = [];
    if (sections.has('ceiling')) {
      const fastify = await startScript('bench/servers/fastify-hello.js', [], { label: 'fastify hello-world' });
      const node = await startScript('bench/servers/node-hello.js', [], { label: 'node:http hello-world' });
      servers.push(fastify, node);
      cases.push(
        { id: 'hello-fastify', section: 'ceiling', label: 'Fastify hello-world JSON (the ceiling)', connections: 50, target: { url: fastify.url, pids: [fastify.pid] } },
        { id: 'hello-node', section: 'ceiling', label: 'node:http hello-world JSON (reference)', connections: 50, target: { url: node.url, pids: [node.pid] } },
      );
    }
    let keyward = null;
    if (sections.has('verify')) {
      log('starting Keyward on a copy of the 10k-key database');
      keyward = await startKeyward(small, 'keyward (10k keys)');
      servers.push(keyward);
    }
    if (sections.has('verify')) {
      const { verifierToken } = small;
      const validBodies = Array.from({ length: SMALL_KEYS }, (_, i) => verifyBody(small.tokenOf(i).token));
      const badChecksumBodies = Array.from({ length: SMALL_KEYS }, (_, i) => verifyBody(breakChecksum(small.tokenOf(i).token)));
      const revokedBodies = small.revokedTokens.map(verifyBody);
      await expectCode(keyward.url, verifierToken, small.tokenOf(0).token, 'VALID', 'a stored key');
      await expectCode(keyward.url, verifierToken, freshUnknownKey(), 'NOT_FOUND', 'an unknown key');
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
      log(`warming the server's cache with the ${SMALL_KEYS.toLocaleString('en-US')} keys`);
      await prewarm(validBodies.map((body) => ({ url: `${keyward.url}/api/keys/verify`, init: { method: 'POST', headers: base.headers, body } })));
      const valid = { ...base, nextBody: () => validBodies[nextIndex(validBodies.length)] };
      for (const connections of [10, 50, 100]) {
        cases.push({ id: `verify-valid-${connections}`, section: 'verify', label: 'verify, valid keys (random of 10k)', connections, target: { ...valid, label: 'verify valid' } });
      }
      cases.push(
        { id: 'verify-unknown', section: 'verify', label: 'verify, rejected: unknown keys (new id each request)', connections: 50, target: { ...base, label: 'unknown', nextBody: () => verifyBody(freshUnknownKey()) } },
        { id: 'verify-revoked', section: 'verify', label: 'verify, rejected: revoked keys (random of 200)', connections: 50, target: { ...base, label: 'revoked', nextBody: () => revokedBodies[nextIndex(revokedBodies.length)] } },
        { id: 'verify-checksum', section: 'verify', label: 'verify, rejected: bad checksum (random of 10k)', connections: 50, target: { ...base, label: 'checksum', nextBody: () => badChecksumBodies[nextIndex(badChecksumBodies.length)] } },
      );
      log(`starting Keyward on a copy of the ${settings.keys.toLocaleString('en-US')}-key database`);
      const big = await startKeyward(large, `keyward (${settings.keys} keys)`);
      servers.push(big);
      await expectCode(big.url, large.verifierToken, large.tokenOf(settings.keys - 1).token, 'VALID', 'a stored key of the large database');
      cases.push({
        id: 'verify-large',
        section: 'verify',
        label: `verify, valid keys (random of ${settings.keys.toLocaleString('en-US')})`,
        connections: 50,
        target: {
          ...base,
          label: 'large',
          url: big.url,
          headers: { ...base.headers, authorization: `Bearer ${large.verifierToken}` },
          pids: [big.pid],
          databaseFile: big.copy.databaseFile,
          nextBody: () => verifyBody(large.tokenOf(nextIndex(settings.keys)).token),
        },
      });
    }
    if (sections.has('sdk')) {
      // Its own Keyward server (another copy), so the usage counts of the verify cases stay exact.
      log('starting Keyward and the SDK example service');
      const upstream = await startKeyward(small, 'keyward for the SDK service (10k keys)');
      servers.push(upstream);
      const service = await startScript('bench/servers/sdk-fastify-service.js', [], {
        label: 'SDK example service',
        env: { KEYWARD_URL: upstream.url, KEYWARD_VERIFIER_TOKEN: small.verifierToken },
      });
      servers.push(service);
      const headers = Array.from({ length: SMALL_KEYS }, (_, i) => ({ authorization: `Bearer ${small.tokenOf(i).token}` }));
      const probe = await fetch(`${service.url}/v1/traces`, { headers: headers[0] });
      if (probe.status !== 200) throw new Error(`the SDK service answered ${probe.status}: ${await probe.text()}`);
      log(`warming the SDK's verdict cache with the ${SMALL_KEYS.toLocaleString('en-US')} keys`);
      await prewarm(headers.map((h) => ({ url: `${service.url}/v1/traces`, init: { headers: h } })));
      cases.push({
        id: 'sdk',
        section: 'sdk',
        label: 'SDK Fastify middleware in a service (remote verifier, random of 10k keys)',
        connections: 50,
        target: { url: service.url, path: '/v1/traces', pids: [service.pid, upstream.pid], nextHeaders: () => headers[nextIndex(headers.length)], label: 'sdk' },
      });
    }
    if (sections.has('betterauth')) {
      const bodies = betterAuth.tokens.map((key) => JSON.stringify({ key }));
      for (const synchronous of ['NORMAL', 'FULL']) {
        const copy = betterAuth.copyForRun();
        const server = await startScript('bench/servers/better-auth-http.js', [copy.databaseFile, synchronous], { label: `Better Auth over HTTP (${synchronous})` });
        server.copy = copy;
        servers.push(server);
        const probe = await fetch(`${server.url}/verify`, { method: 'POST', body: JSON.stringify({ key: betterAuth.tokens[0] }) });
        const answer = await probe.json();
        if (!answer.valid) throw new Error(`Better Auth refused its own key: ${JSON.stringify(answer)}`);
        cases.push({
          id: `better-auth-http-${synchronous.toLowerCase()}`,
          section: 'betterauth',
          label: `Better Auth api-key verify over HTTP, synchronous ${synchronous} (random of ${BETTER_AUTH_KEYS.toLocaleString('en-US')})`,
          connections: 50,
          target: { url: server.url, path: '/verify', method: 'POST', headers: { 'content-type': 'application/json' }, pids: [server.pid], databaseFile: copy.databaseFile, nextBody: () => bodies[nextIndex(bodies.length)], label: 'better auth' },
        });
      }
    }

    if (cases.length > 0) {
      log(`HTTP: ${cases.length} cases, ${settings.rounds} interleaved round(s) of ${settings.durationSeconds} s each (after ${settings.warmupSeconds} s of warm-up)`);
      results.http = await runHttpCases(cases, settings);
    }
    if (keyward && sections.has('verify')) {
      // SIGTERM flushes usage; then the database says what the verifications wrote.
      await stopChild(keyward.child);
      results.usage = inspectUsage(keyward.copy.databaseFile, small.revokedTokens);
      log(`usage after SIGTERM: ${results.usage.valid} valid and ${results.usage.rejected} rejected verifications counted in ${results.usage.rows} rows; revoked keys with lastUsedAt: ${results.usage.revokedKeysWithLastUsed}`);
    }
    await stopAll();

    if (sections.has('inprocess')) {
      const worker = async (db, options) => {
        const args = { databaseFile: join(db.dir, 'keyward.db'), secretsFile: join(db.dir, 'secrets.json'), seed: db.seed, keyCount: db.keyCount, seconds: settings.inProcessSeconds, ...options };
        return JSON.parse(await runNode(['--expose-gc', join(root, 'bench/workers/keyward-in-process.js'), JSON.stringify(args)], { core: 1, label: 'in-process verification' }));
      };
      log('in process: 10k keys stored, warm cache');
      results.inProcess.small = await worker(small, { hotKeys: SMALL_KEYS });
      log(`  ${results.inProcess.small.opsPerSecond} verifications/s`);
      log('in process: 10k keys stored, one key verified over and over');
      results.inProcess.oneKey = await worker(small, { hotKeys: 1 });
      log(`  ${results.inProcess.oneKey.opsPerSecond} verifications/s`);
      log(`in process: ${settings.keys.toLocaleString('en-US')} keys stored, warm cache of 10k keys`);
      results.inProcess.largeHot10k = await worker(large, { hotKeys: SMALL_KEYS });
      log(`  ${results.inProcess.largeHot10k.opsPerSecond} verifications/s`);
      log(`in process: ${settings.keys.toLocaleString('en-US')} keys stored, warm cache full (100k keys)`);
      results.inProcess.largeHot100k = await worker(large, { hotKeys: 100_000 });
      log(`  ${results.inProcess.largeHot100k.opsPerSecond} verifications/s`);
      log(`in process: ${settings.quick ? 'the first 200,000' : 'every one'} of the ${settings.keys.toLocaleString('en-US')} keys once (memory)`);
      results.inProcess.distinct = await worker(large, { distinct: true, ...(settings.quick ? { distinctLimit: 200_000 } : {}) });
      log(`  ${results.inProcess.distinct.coldOpsPerSecond} verifications/s from the store, RSS ${results.inProcess.distinct.rssBaselineMb} → peak ${results.inProcess.distinct.rssPeakMb} MB`);
    }
    if (sections.has('betterauth')) {
      results.betterAuthInProcess = {};
      for (const synchronous of ['NORMAL', 'FULL']) {
        log(`Better Auth in process (synchronous ${synchronous})`);
        const copy = betterAuth.copyForRun();
        try {
          const args = { databaseFile: copy.databaseFile, metaFile: join(betterAuth.dir, 'meta.json'), seconds: settings.inProcessSeconds, synchronous };
          const result = JSON.parse(await runNode([join(root, 'bench/workers/better-auth-in-process.js'), JSON.stringify(args)], { core: 1, label: 'Better Auth in process' }));
          results.betterAuthInProcess[synchronous.toLowerCase()] = result;
          log(`  ${result.opsPerSecond} verifications/s, ${result.rowWritesPerVerification} rows written per verification`);
        } finally {
          copy.remove();
        }
      }
    }
    if (sections.has('oauth')) {
      log('OAuth token issuance: Keyward and oidc-provider');
      results.oauth = await runOAuthIssuanceBench({
        connections: 50,
        durationSeconds: settings.durationSeconds,
        rounds: settings.rounds,
        clients: 300,
        log: (line) => log(`  ${line}`),
      });
    }
    if (sections.has('console')) {
      log('the console in Chromium: the login page and Settings → API Keys, cold and warm');
      results.console = await runConsoleLoadBench({ rounds: settings.quick ? 3 : 15 });
    }
    if (sections.has('fanout')) {
      log(`fan-out: 3 instances on PostgreSQL, ${settings.revokes.toLocaleString('en-US')} revokes per mode, without Redis, with Redis, and with the notifications cut`);
      results.fanout = await runFanoutBench({ revokes: settings.revokes, log: (line) => log(`  ${line}`) });
    }
  } finally {
    await stopAll();
  }

  const stealEnd = stealSnapshot();
  load.push(loadavg()[0]);
  const finishedAt = new Date();
  const report = render({
    settings,
    machine,
    command,
    fanoutSection: results.fanout ? renderFanout(results.fanout, { command, machine }) : null,
    startedAt,
    finishedAt,
    load,
    steal: stealStart && stealEnd ? Math.round(((stealEnd.steal - stealStart.steal) / Math.max(1, stealEnd.total - stealStart.total)) * 1000) / 10 : null,
    results,
  });
  process.stdout.write(report);
  const file = settings.write ? join(root, 'docs/benchmarks.md') : join(root, 'bench/results/latest.md');
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, report);
  log(`written to ${file.slice(root.length + 1)}`);
  if (results.fanout && !settings.write && !settings.quick) {
    // A run that measured fan-out without writing the whole report replaces only its own section.
    const docs = join(root, 'docs/benchmarks.md');
    writeFileSync(docs, spliceFanout(readFileSync(docs, 'utf8'), renderFanout(results.fanout, { command, machine })));
    log('fan-out section (h) replaced in docs/benchmarks.md; the other sections are left as they were');
  }
}

// ---------------------------------------------------------------------------------------------
// The report

const int = (n) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const ms = (n) => (n === null || n === undefined ? 'n/a' : `${n}`);
const ratio = (a, b) => (a && b ? a / b : null);
const fixed = (n, digits = 2) => (n === null ? 'n/a' : n.toFixed(digits));
const verdict = (ok) => (ok === null ? 'n/a' : ok ? '**PASS**' : '**MISS**');

function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

function render({ settings, machine, command, fanoutSection, startedAt, finishedAt, load, steal, results }) {
  const http = results.http ?? new Map();
  const get = (id) => http.get(id) ?? null;
  const hello = get('hello-fastify');
  const vsHello = (row) => (row && hello ? `${Math.round((row.requestsPerSecond / hello.requestsPerSecond) * 100)}%` : 'n/a');
  const httpRow = (row) => [
    row.label,
    row.connections,
    int(row.requestsPerSecond),
    ms(row.p50Ms),
    ms(row.p99Ms),
    `${row.serverCpu}% / ${row.loaderCpu}%`,
    row.serverMicrosPerRequest ?? 'n/a',
    vsHello(row),
    row.runs.map(int).join(', ') + (row.errors ? ` (${int(row.errors)} connection errors or timeouts)` : ''),
  ];
  const httpHeaders = ['case', 'conn.', 'req/s (median)', 'p50 ms', 'p99 ms', 'CPU server / loader', 'server µs CPU per req.', 'of Fastify hello', 'runs (req/s)'];
  const out = [];
  const duration = Math.round((finishedAt - startedAt) / 1000);
  out.push('# Benchmarks');
  out.push('');
  out.push(`Generated by \`npm run bench\` (\`bench/run.js\`) on ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; the run took ${Math.floor(duration / 60)} min ${duration % 60} s.`);
  out.push('Every figure below comes from that one run on one machine; rerun it to get your own.');
  out.push('');
  out.push('## Machine and conditions');
  out.push('');
  out.push(`- CPU: ${machine.model}, ${machine.cores} cores${machine.mhz ? ` at ${Math.round(machine.mhz)} MHz` : ''} (${machine.hypervisor}); memory ${machine.memoryGb} GB`);
  out.push(`- OS: ${machine.os}`);
  out.push(`- Node ${process.version}; Fastify ${version('fastify')}, autocannon ${version('autocannon')}, better-sqlite3 ${version('better-sqlite3')}, better-auth ${version('better-auth')} with @better-auth/api-key ${version('@better-auth/api-key')}, oidc-provider ${version('oidc-provider')}`);
  out.push(`- Command: \`${command}\` (after \`npm run build\`)`);
  out.push(
    `- ${canPin ? 'Servers pinned to core 0 and the load generator (autocannon, one process) to core 1 with `taskset`' : 'No `taskset`: processes were not pinned'}; HTTP cases interleaved over ${settings.rounds} round(s) of ${settings.durationSeconds} s after ${settings.warmupSeconds} s of warm-up each, medians reported.`,
  );
  out.push(`- Load average (1 min) at start / end: ${load.map((l) => l.toFixed(2)).join(' / ')}; hypervisor steal over the run: ${steal ?? 'n/a'}%.`);
  out.push('- "CPU server / loader" is the share of one core the server process(es) and the load generator used during the measured runs (from `/proc`): a loader near 100% means autocannon, not the server, was the limit; a server well under 100% with a loader under 100% means something else (another process, steal) took the core.');
  if (settings.quick) out.push('- **Quick run** (`--quick`): short durations and one round; the figures are indicative only.');
  if (settings.note) out.push(`- Note from whoever ran it: ${settings.note}`);
  out.push('');

  if (hello && hello.serverCpu < 85 && hello.loaderCpu < 85) {
    out.push(`**This run was disturbed**: the Fastify hello-world server used ${hello.serverCpu}% of its core and the load generator ${hello.loaderCpu}% of theirs, so neither was the limit: other processes took CPU time (a shared machine). Throughput and latency figures are low and noisy; the "server µs CPU per req." column (CPU time the server spent per request) is the steadier comparison.`);
    out.push('');
  }

  const targets = [];
  const target = (name, goal, measured, ok) => targets.push([name, goal, measured, verdict(ok)]);

  if (hello || get('hello-node')) {
    out.push('## (a) The ceiling: hello-world JSON over HTTP');
    out.push('');
    out.push(table(httpHeaders, [hello, get('hello-node')].filter(Boolean).map(httpRow)));
    out.push('');
  }

  if (get('verify-valid-50')) {
    out.push('## (b) `POST /api/keys/verify` over HTTP on SQLite');
    out.push('');
    out.push('A verifier credential (`keyward admin create-verifier`) asks for `traces:read` for a key chosen at random on every request. Keys are service keys bound to one project. Each of the 10k keys was verified once before the runs (the server\'s cache holds them all); the million-key case is not warmed: its server caches 100,000 keys, so most requests read SQLite.');
    out.push('');
    const ids = ['verify-valid-10', 'verify-valid-50', 'verify-valid-100', 'verify-unknown', 'verify-revoked', 'verify-checksum', 'verify-large'];
    out.push(table(httpHeaders, ids.map(get).filter(Boolean).map(httpRow)));
    out.push('');
    const commitsOf = (row) => (row?.commitPolls ? `${row.commitPolls.changed} of ${row.commitPolls.polls}` : 'n/a');
    out.push('Database writes: another connection polled SQLite\'s `data_version` every 50 ms during the measured runs; it changes when the server commits. Usage is flushed in one transaction every 5 s (`KEYWARD_USAGE_FLUSH_MS`), so a few polls see a commit; one write per verification would change it at every poll.');
    out.push('');
    out.push(table(['case', 'verifications measured', 'polls that saw a commit'], ids.map(get).filter(Boolean).map((row) => [`${row.label} @${row.connections}`, int(row.total), commitsOf(row)])));
    out.push('');
    if (results.usage) {
      const u = results.usage;
      const answeredValid = ['verify-valid-10', 'verify-valid-50', 'verify-valid-100'].map(get).filter(Boolean).reduce((sum, row) => sum + row.answered, 0) + 1;
      const answeredRevoked = (get('verify-revoked')?.answered ?? 0) + 1;
      out.push(`After the run the 10k-key server was stopped with SIGTERM (which flushes usage). Its usage table held ${int(u.valid)} valid and ${int(u.rejected)} rejected verifications in ${int(u.rows)} per-key, per-minute rows; the load generator had received ${int(answeredValid)} valid and ${int(answeredRevoked)} revoked answers from it (warm-ups and the checks before the load included; a request still in flight when a run stops is answered and counted by the server but not by autocannon). Unknown keys and bad checksums belong to no key and are not counted. ${u.revokedKeysWithLastUsed} of the ${u.revokedKeys} revoked keys had a \`lastUsedAt\`: rejected verifications never set it.`);
      out.push('');
    }
  }

  if (get('sdk')) {
    out.push('## (c) The SDK\'s Fastify middleware in a service');
    out.push('');
    out.push('`bench/servers/sdk-fastify-service.js`: a Fastify service whose route asks `@keyward/sdk/fastify` for `traces:read`, with a remote verifier (`createRemoteVerifier`, default options: a local cache of 10,000 verdicts kept fresh by the invalidation stream and trusted for 30 s) against its own Keyward server on a copy of the 10k-key database. Every key was presented once before the runs; verdicts older than 30 s are fetched again, so with 10k keys at random a share of the requests still go to the server. Both processes share core 0; the CPU column adds them up.');
    out.push('');
    out.push(table(httpHeaders, [httpRow(get('sdk'))]));
    out.push('');
  }

  const ip = results.inProcess;
  if (ip.small) {
    out.push('## (d) In-process verification');
    out.push('');
    out.push('`bench/workers/keyward-in-process.js`: core\'s `KeyVerifier` over a `CachedVerdictSource` on the SQLite store, wired as `packages/server/src/compose.ts` wires them (100,000 cache entries); one verification at a time, each asking for `traces:read`, on one core (core 1). "Warm" means every key of the hot set was verified once before the timed loop.');
    out.push('');
    out.push(
      table(
        ['keys stored', 'keys verified (at random)', 'verifications/s', 'store reads during the timed loop'],
        [
          [int(ip.small.keyCount), `${int(ip.small.hotKeys)} (warm)`, int(ip.small.opsPerSecond), int(ip.small.storeReadsDuringRun)],
          ip.oneKey && [int(ip.oneKey.keyCount), '1 (the same key every time: the CPU caches stay hot)', int(ip.oneKey.opsPerSecond), int(ip.oneKey.storeReadsDuringRun)],
          ip.largeHot10k && [int(ip.largeHot10k.keyCount), `${int(ip.largeHot10k.hotKeys)} (warm)`, int(ip.largeHot10k.opsPerSecond), int(ip.largeHot10k.storeReadsDuringRun)],
          ip.largeHot100k && [int(ip.largeHot100k.keyCount), `${int(ip.largeHot100k.hotKeys)} (warm; the cache is full)`, int(ip.largeHot100k.opsPerSecond), int(ip.largeHot100k.storeReadsDuringRun)],
          ip.distinct && [int(ip.distinct.keyCount), `${int(ip.distinct.distinctVerified)} distinct, each once (cold: a store read each)`, int(ip.distinct.coldOpsPerSecond), int(ip.distinct.distinctVerified)],
        ].filter(Boolean),
      ),
    );
    out.push('');
    if (ip.distinct) {
      out.push(`Memory while verifying ${int(ip.distinct.distinctVerified)} distinct keys: resident set ${ip.distinct.rssBaselineMb} MB before, ${ip.distinct.rssPeakMb} MB at the peak, ${ip.distinct.rssEndMb} MB at the end, with ${int(ip.distinct.cacheEntries)} cache entries at the end. Every tenth of the way the resident set was read, then a full GC was forced and the live heap read (what the process retains):`);
      out.push('');
      out.push(table(['keys verified', 'resident set (MB)', 'live heap after GC (MB)'], ip.distinct.rssSamples.map(([keys, rss, heap]) => [int(keys), int(rss), int(heap)])));
      out.push('');
    }
  }

  const baHttp = { normal: get('better-auth-http-normal'), full: get('better-auth-http-full') };
  const baIn = results.betterAuthInProcess ?? {};
  if (baHttp.normal || baHttp.full || baIn.normal || baIn.full) {
    out.push('## (e) Better Auth\'s API-key plugin, side by side');
    out.push('');
    out.push(`Better Auth ${version('better-auth')} with \`@better-auth/api-key\` ${version('@better-auth/api-key')} on a SQLite file in WAL mode, ${int(BETTER_AUTH_KEYS)} keys made through \`auth.api.createApiKey\`, its per-key rate limit raised so it never refuses (otherwise the plugin's defaults). It writes to the database on every verification, so the disk's sync speed matters: it runs with \`synchronous = FULL\` (what Keyward's store uses) and with \`synchronous = NORMAL\` (no fsync per commit in WAL mode, the setting kindest to it); the targets are judged against NORMAL. Its \`verifyApiKey\` endpoint is server-only, so over HTTP a bare \`node:http\` route calls it (\`bench/servers/better-auth-http.js\`), one process on core 0 like Keyward's server.`);
    out.push('');
    const keywardHttp = get('verify-valid-50');
    const rows = [];
    const times = (a, b) => (a && b ? `Keyward: ${fixed(ratio(a, b), 0)}×` : '');
    if (ip.small) rows.push(['in process, Keyward (10k keys, warm cache)', int(ip.small.opsPerSecond), 'none (the verifier never writes; usage is counted by the server)', '']);
    for (const mode of ['normal', 'full']) {
      const r = baIn[mode];
      if (r) rows.push([`in process, Better Auth (synchronous ${mode.toUpperCase()})`, int(r.opsPerSecond), `${r.rowWritesPerVerification} rows per verification`, times(ip.small?.opsPerSecond, r.opsPerSecond)]);
    }
    const polls = (row) => `commits seen in ${row.commitPolls?.changed ?? 'n/a'} of ${row.commitPolls?.polls ?? 'n/a'} polls`;
    if (keywardHttp) rows.push(['over HTTP @50, Keyward (10k keys)', int(keywardHttp.requestsPerSecond), polls(keywardHttp), `p99 ${keywardHttp.p99Ms} ms`]);
    for (const mode of ['normal', 'full']) {
      const row = baHttp[mode];
      if (row) rows.push([`over HTTP @50, Better Auth (synchronous ${mode.toUpperCase()})`, int(row.requestsPerSecond), polls(row), `p99 ${row.p99Ms} ms. ${times(keywardHttp?.requestsPerSecond, row.requestsPerSecond)}`]);
    }
    out.push(table(['case', 'verifications/s', 'database writes', ''], rows));
    out.push('');
  }

  if (results.oauth) {
    const [kw, oidc] = results.oauth;
    out.push('## (f) OAuth token issuance (client credentials, ES256 JWT access tokens)');
    out.push('');
    out.push('`bench/oauth-issuance.js`: Keyward against `oidc-provider` with 300 clients each, HTTP Basic, a different client on every request, 50 connections, interleaved rounds.');
    out.push('');
    out.push(table(['server', 'tokens/s (median)', 'p50 ms', 'p99 ms'], results.oauth.map((r) => [r.name, int(r.requestsPerSecond), ms(r.p50Ms), ms(r.p99Ms)])));
    out.push('');
    target('token issuance vs oidc-provider', '≥ 2× (aim 4×)', `${fixed(ratio(kw.requestsPerSecond, oidc.requestsPerSecond))}×`, ratio(kw.requestsPerSecond, oidc.requestsPerSecond) >= 2);
    target('token issuance p99 @50', '< 20 ms', `${kw.p99Ms} ms`, kw.p99Ms < 20);
  }

  if (results.console) {
    out.push('## (g) The console: first page usable');
    out.push('');
    out.push("`bench/console-load.js`: the production build served by Keyward on loopback, loaded in Debian's Chromium (headless, playwright-core) in a fresh browser context each time (cold: no HTTP cache), and once more in the same context (warm). Timed from navigation to the page being usable: the login form's email field visible; on Settings → API Keys, the newest of 50 keys listed (session, directory and key list loaded). The floor is the same browser loading a one-line HTML page from a bare Node server.");
    out.push('');
    out.push(table(['page', 'cold median ms', 'cold worst ms', 'warm ms'], results.console.map((r) => [r.page, int(r.coldMedianMs), int(r.coldWorstMs), int(r.warmMs)])));
    out.push('');
    const keysPage = results.console.find((r) => r.page.startsWith('Settings'));
    if (keysPage) target('console: API Keys page usable (cold, median)', '< 1,000 ms', `${int(keysPage.coldMedianMs)} ms`, keysPage.coldMedianMs < 1000);
  }

  // Targets of issue 3 (and issue 5's, above).
  const v50 = get('verify-valid-50');
  // What share of the hello-world rate the case would reach with a whole core: hello's CPU per request over the case's.
  const cpuShare = (row) =>
    row.serverMicrosPerRequest && hello?.serverMicrosPerRequest
      ? `${Math.round((hello.serverMicrosPerRequest / row.serverMicrosPerRequest) * 100)}% (${hello.serverMicrosPerRequest} vs ${row.serverMicrosPerRequest} µs)`
      : 'n/a';
  if (v50 && hello) {
    const r = ratio(v50.requestsPerSecond, hello.requestsPerSecond);
    target('verify over HTTP @50 vs Fastify hello-world', '≥ 70%', `${Math.round(r * 100)}% (${int(v50.requestsPerSecond)} / ${int(hello.requestsPerSecond)} req/s); by server CPU per request ${cpuShare(v50)}`, r >= 0.7);
  }
  if (v50) target('verify p99 @50', '< 5 ms', `${v50.p99Ms} ms (autocannon reports whole ms)`, v50.p99Ms < 5);
  const large = get('verify-large');
  if (large && hello) {
    const r = ratio(large.requestsPerSecond, hello.requestsPerSecond);
    target(`verify with ${int(settings.keys)} keys at random vs Fastify hello-world`, '≥ 40%', `${Math.round(r * 100)}%; by server CPU per request ${cpuShare(large)}`, r >= 0.4);
  }
  if (v50) {
    for (const id of ['verify-unknown', 'verify-revoked', 'verify-checksum']) {
      const row = get(id);
      if (!row) continue;
      // Cost is server CPU per request; 10% is left for the noise of CPU accounting on a shared machine.
      const cost = ratio(row.serverMicrosPerRequest, v50.serverMicrosPerRequest);
      target(`${row.label.replace('verify, ', '')}: cost vs valid`, '≤ valid (server CPU per request, +10% noise)', `${row.serverMicrosPerRequest} vs ${v50.serverMicrosPerRequest} µs (${fixed(cost)}×); ${int(row.requestsPerSecond)} vs ${int(v50.requestsPerSecond)} req/s`, cost !== null && cost <= 1.1);
    }
    const polls = ['verify-valid-50', 'verify-unknown', 'verify-revoked', 'verify-checksum', 'verify-large'].map(get).filter(Boolean);
    const changed = polls.reduce((s, r) => s + (r.commitPolls?.changed ?? 0), 0);
    const total = polls.reduce((s, r) => s + (r.commitPolls?.polls ?? 0), 0);
    const verifications = polls.reduce((s, r) => s + r.total, 0);
    // At most one flush every 5 s (plus one at a boundary) per measured run.
    const allowed = polls.length * settings.rounds * (Math.ceil(settings.durationSeconds / 5) + 1);
    target('no database write per verification', 'batched usage flushes only', `${int(verifications)} verifications; commits seen in ${changed} of ${total} 50-ms polls (flushes allow ${allowed})`, changed <= allowed);
    if (results.usage) target('rejected keys never written (lastUsedAt)', '0 revoked keys touched', `${results.usage.revokedKeysWithLastUsed} of ${results.usage.revokedKeys}`, results.usage.revokedKeysWithLastUsed === 0);
  }
  if (ip.small) target('in-process verification, warm cache, one core', '≥ 300,000/s', `${int(ip.small.opsPerSecond)}/s`, ip.small.opsPerSecond >= 300_000);
  if (ip.small && ip.largeHot100k) {
    const r = ratio(ip.largeHot100k.opsPerSecond, ip.small.opsPerSecond);
    target(`in process with ${int(settings.keys)} keys stored (cache full, 100k warm) vs 10k`, 'within 20%', `${Math.round(r * 100)}% (${int(ip.largeHot100k.opsPerSecond)} vs ${int(ip.small.opsPerSecond)}/s; with 10k warm of ${int(settings.keys)}: ${int(ip.largeHot10k?.opsPerSecond)}/s)`, r >= 0.8);
  }
  if (ip.distinct) {
    // Bounded: once the cache is full (100k keys), the live heap must not keep growing with the keys
    // verified (at most 10% over its size when the cache had just filled).
    const samples = ip.distinct.rssSamples;
    const full = samples.find(([keys]) => keys >= 150_000) ?? samples[0];
    const last = samples.at(-1);
    const bounded = full && last && last[0] > full[0] ? last[2] <= 1.1 * full[2] : null;
    target(
      `resident memory while verifying ${int(ip.distinct.distinctVerified)} distinct keys`,
      'bounded (state the figure)',
      `RSS peak ${ip.distinct.rssPeakMb} MB (${ip.distinct.rssBaselineMb} MB before); live heap ${full ? `${full[2]} MB at ${int(full[0] / 1000)}k keys, ${last[2]} MB at ${int(last[0] / 1000)}k` : 'n/a'}`,
      bounded,
    );
  }
  if (ip.small && baIn.normal) {
    const r = ratio(ip.small.opsPerSecond, baIn.normal.opsPerSecond);
    target('in process vs Better Auth (synchronous NORMAL)', '≥ 100×', `${fixed(r, 0)}×${baIn.full ? ` (${fixed(ratio(ip.small.opsPerSecond, baIn.full.opsPerSecond), 0)}× against FULL)` : ''}`, r >= 100);
  }
  if (v50 && baHttp.normal) {
    const r = ratio(v50.requestsPerSecond, baHttp.normal.requestsPerSecond);
    target('over HTTP @50 vs Better Auth (synchronous NORMAL)', '≥ 20×', `${fixed(r, 0)}×${baHttp.full ? ` (${fixed(ratio(v50.requestsPerSecond, baHttp.full.requestsPerSecond), 0)}× against FULL)` : ''}`, r >= 20);
  }

  if (fanoutSection) {
    out.push(fanoutSection);
    out.push('');
  }

  const loaderBound = [...http.values()].filter((row) => row.loaderCpu >= 90);
  if (loaderBound.length) {
    out.push(`In these rows the load generator (autocannon, one process) used 90% of its core or more, so it was as much the limit as the server: ${loaderBound.map((r) => `${r.label} @${r.connections}`).join('; ')}. Their requests per second are lower bounds of what the server can do; their server CPU per request is not affected.`);
    out.push('');
  }

  if (targets.length) {
    out.push('## Targets');
    out.push('');
    out.push('From the verification issue (issue 3) and the token issue (issue 5); each measured in this run.');
    out.push('');
    out.push(table(['target', 'goal', 'measured', ''], targets));
    out.push('');
    out.push('### Where the misses come from');
    out.push('');
    out.push(WHY_MISSED);
    out.push('');
  }
  out.push('## Running it');
  out.push('');
  out.push('```sh');
  out.push('npm run bench                                # build, then the full run (writes this file)');
  out.push('node bench/run.js --quick                     # 2-second runs, one round (writes bench/results/latest.md)');
  out.push('node bench/run.js --only verify,betterauth    # some sections: ceiling, verify, sdk, inprocess, betterauth, oauth, console, fanout');
  out.push('node bench/run.js --only fanout               # section (h) alone (--revokes <n> per mode), replaced in place in this file');
  out.push('node bench/run.js --duration 10 --rounds 5    # longer runs; --keys <n> changes the large key set; --write writes this file anyway');
  out.push('node bench/run.js --note "quiet machine"      # a line about the conditions, printed under the machine');
  out.push('```');
  out.push('');
  out.push('The first run builds its databases and caches them in `bench/.cache/` (git-ignored): 10,000 keys and 200 revoked keys made through the API, and the million keys written straight into a SQLite file (rows cloned from a key made through the API, digests computed with core\'s key format and the server\'s pepper); later runs copy them. Servers run as child processes and are killed when the run ends, fails or is interrupted.');
  return `${out.join('\n')}\n`;
}

function version(name) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

main().catch((err) => {
  log(`failed: ${err.stack ?? err}`);
  process.exitCode = 1;
});
