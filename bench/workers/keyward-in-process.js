// In-process verification, in its own process so its memory figures are its own, one verification
// at a time on one core, each asking for a permission as `POST /api/keys/verify` does. Two ways in:
//   via "core": @keyward/core's `createKeyVerification` on the SQLite store (the one assembly the
//     server and the SDK use: verdict cache, verifier, usage counts), its cache sized by
//     `cacheEntries`, usage flushed as the server does;
//   via "sdk": the SDK's public embedded verifier, `createEmbeddedVerifier` from
//     @keyward/sdk/embedded with its defaults, called as a service calls it:
//     `await verifier.verify({ key, permission })`.
// The hot set (the first `hotKeys` keys) is verified once (cold: read from the store), with the live
// heap measured before and after (a full GC each time: what the cache retains, per key it holds), then
// verified at random for `seconds`, or, with `count`, `warmCount` random verifications and then
// exactly `count` more (for instruction counts under callgrind: run it with count 0 as the baseline).
// With `profileFile`, the timed loop runs under V8's CPU profiler and its profile is written there.
//
//   node --expose-gc bench/workers/keyward-in-process.js '<json options>'   (prints one JSON line)

import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { PepperRing, createKeyFormat, createKeyVerification, createLocalCacheBus, defaultCatalogue, parsePepperSetting, systemClock } from '@keyward/core';
import { createEmbeddedVerifier } from '@keyward/sdk/embedded';
import { openStore, usageWriterFor } from '@keyward/store';
import Database from 'better-sqlite3';
import { BENCH_PERMISSION, tokenFactory } from '../lib/keyward-db.js';
import { xorshift32 } from '../lib/random.js';

const options = JSON.parse(process.argv[2]);
const { databaseFile, secretsFile, seed, keyCount, via = 'core', seconds = 1, samples = false } = options;
const hot = Math.min(options.hotKeys ?? keyCount, keyCount);
const secrets = JSON.parse(readFileSync(secretsFile, 'utf8'));
const mb = (bytes) => Math.round(bytes / 1048576);
/** How often the core wiring writes its usage counts: the server's default (KEYWARD_USAGE_FLUSH_MS). */
const USAGE_FLUSH_MS = 5000;
const gc = () => {
  if (!globalThis.gc) throw new Error('run with --expose-gc');
  globalThis.gc();
  globalThis.gc();
};

/**
 * Reads of the keys table, whoever makes them: better-sqlite3's statements are counted in this
 * process (the store and the SDK use the same driver), so a verification answered from a cache is
 * told from one that read the store, for either way in.
 */
let keyReads = 0;
{
  const probe = new Database(':memory:');
  const statement = Object.getPrototypeOf(probe.prepare('select 1'));
  probe.close();
  for (const method of ['get', 'all', 'iterate']) {
    const original = statement[method];
    statement[method] = function countedRead(...args) {
      if (this.source.includes('api_keys')) keyReads++;
      return original.apply(this, args);
    };
  }
}

/**
 * core's one assembly of verification (`createKeyVerification`: the verdict cache on the store, the
 * verifier and usage counts, as the server builds it), its usage flushed every USAGE_FLUSH_MS as the
 * server flushes by default: `verify(token)` resolves the verdict.
 */
async function coreVerifier() {
  const store = await openStore(`sqlite:${databaseFile}`);
  const bus = createLocalCacheBus();
  const maxEntries = options.cacheEntries ?? 100_000;
  const verification = createKeyVerification({
    store,
    bus,
    clock: systemClock,
    peppers: new PepperRing(parsePepperSetting(secrets.pepper)),
    keyFormat: createKeyFormat(),
    catalogue: defaultCatalogue,
    cache: { maxEntries, negativeTtlMs: 10_000, maxAgeMs: 0 },
    // As the server writes it: on the SQLite file, by a worker thread.
    usage: { maxBufferedEntries: 100_000, writer: usageWriterFor(store) },
  });
  // Under callgrind (`count`) the number of timed flushes would follow valgrind's speed: usage is
  // counted all the same and written once, at the end.
  const flushTimer =
    options.count === undefined
      ? setInterval(() => {
          verification.usage?.flush().catch((err) => process.stderr.write(`usage flush failed: ${err}\n`));
        }, USAGE_FLUSH_MS)
      : null;
  return {
    description: { cacheCapacity: maxEntries, usageFlushMs: USAGE_FLUSH_MS },
    verify: (token) => verification.verify({ token, permission: BENCH_PERMISSION, orgId: null }),
    cacheSize: () => verification.cache.size ?? null,
    flushUsage: () => verification.usage?.flush(),
    async close() {
      if (flushTimer) clearInterval(flushTimer);
      await verification.usage?.flush({ final: true });
      await verification.usage?.close();
      verification.close();
      await bus.close();
      await store.close();
    },
  };
}

/** The SDK's embedded verifier with its defaults, on `databaseFile` (a private copy: it counts usage). */
async function sdkVerifier() {
  const verifier = await createEmbeddedVerifier({ databaseUrl: `sqlite:${databaseFile}`, pepper: secrets.pepper });
  return {
    description: { defaults: true },
    verify: (key) => verifier.verify({ key, permission: BENCH_PERMISSION }),
    flushUsage: () => verifier.flushUsage(),
    // Entries held, if this version of the SDK reports them.
    cacheSize: () => (typeof verifier.stats === 'function' ? (verifier.stats()?.cached ?? null) : null),
    close: () => verifier.close(),
  };
}

/** Starts the in-process CPU profiler; `stop()` resolves the profile. */
async function startProfiler() {
  const session = new Session();
  session.connect();
  const post = (method, params = {}) => new Promise((resolvePost, reject) => session.post(method, params, (err, answer) => (err ? reject(err) : resolvePost(answer))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 250 });
  await post('Profiler.start');
  return {
    async stop() {
      const { profile } = await post('Profiler.stop');
      session.disconnect();
      return profile;
    },
  };
}

const subject = via === 'sdk' ? await sdkVerifier() : await coreVerifier();
/**
 * Lets timers and I/O run (every YIELD_EVERY verifications), as they do between a service's requests: a
 * loop of verifications that never leaves the microtask queue would starve the verifier's own
 * timers (the SDK's reads of the invalidation log, without which it stops trusting its cache).
 */
const YIELD_EVERY = 64;
const yieldToEventLoop = () => new Promise((resolveTurn) => setImmediate(resolveTurn));
const nextIndex = xorshift32(0x9e3779b9);

async function verifyOrFail(token) {
  const verdict = await subject.verify(token);
  if (!verdict.valid) throw new Error(`expected a valid verdict, got ${verdict.code}: ${verdict.explanation}`);
}

// The tokens first, so that the heap measured around the cold pass holds only what verifying kept.
const tokenOf = tokenFactory(seed);
// Flat strings, as a request's body gives them: a token made by concatenation is flattened by its first
// verification, and that copy (88 bytes) would be counted as heap the cache keeps.
const flat = (text) => Buffer.from(text, 'latin1').toString('latin1');
const tokens = Array.from({ length: hot }, (_, i) => flat(tokenOf(i).token));
const result = { via, keyCount, hotKeys: hot, yieldEvery: YIELD_EVERY, ...subject.description };

gc();
const before = process.memoryUsage();
let peakRss = before.rss;
let coldNs = 0n;
const batch = 1024 * 10;
/** [keys verified so far, RSS in MB, live heap in MB after a GC], ten times over the cold pass. */
const memorySamples = [];
for (let from = 0; from < hot; from += batch) {
  const to = Math.min(hot, from + batch);
  const started = process.hrtime.bigint();
  for (let i = from; i < to; i++) {
    await verifyOrFail(tokens[i]);
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
  }
  coldNs += process.hrtime.bigint() - started;
  const rss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, rss);
  if (samples && (to % Math.max(batch, Math.floor(hot / 10)) === 0 || to === hot)) {
    gc();
    memorySamples.push([to, mb(rss), mb(process.memoryUsage().heapUsed)]);
  }
}
// The usage counts still buffered are written first: the heap measured is what the cache keeps.
await subject.flushUsage();
gc();
const after = process.memoryUsage();
// Per key the cache holds (its entries, a project's among them), not per key verified: a cache smaller
// than the keys verified keeps only some of them.
const held = subject.cacheSize();
const perKeyOf = held === null ? hot : Math.min(hot, held);
Object.assign(result, {
  coldOpsPerSecond: Math.round(hot / (Number(coldNs) / 1e9)),
  storeReadsCold: keyReads,
  heapBeforeMb: mb(before.heapUsed),
  heapAfterMb: mb(after.heapUsed),
  cachedAfterColdPass: held,
  heapBytesPerKey: Math.round((after.heapUsed - before.heapUsed) / perKeyOf),
  rssBeforeMb: mb(before.rss),
  rssPeakMb: mb(peakRss),
  rssAfterMb: mb(after.rss),
  ...(samples ? { memorySamples } : {}),
});

if (options.count !== undefined) {
  // A fixed number of verifications (instruction counts): the same warm-up in every run, then `count`.
  for (let i = 0; i < (options.warmCount ?? 0); i++) {
    await verifyOrFail(tokens[nextIndex(hot)]);
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
  }
  for (let i = 0; i < options.count; i++) {
    await verifyOrFail(tokens[nextIndex(hot)]);
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
  }
  result.count = options.count;
} else {
  // With `profileFile`, V8's CPU profiler samples the timed loop alone (not the cold pass).
  const profiler = options.profileFile ? await startProfiler() : null;
  const readsBefore = keyReads;
  let count = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let now = started;
  while (now < deadline) {
    for (let i = 0; i < 1024; i++) {
      await verifyOrFail(tokens[nextIndex(hot)]);
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
    }
    count += 1024;
    now = process.hrtime.bigint();
  }
  const elapsed = Number(now - started) / 1e9;
  if (profiler) writeFileSync(options.profileFile, JSON.stringify(await profiler.stop()));
  Object.assign(result, {
    verifications: count,
    opsPerSecond: Math.round(count / elapsed),
    storeReadsDuringRun: keyReads - readsBefore,
    cacheEntries: subject.cacheSize(),
  });
}

await subject.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
