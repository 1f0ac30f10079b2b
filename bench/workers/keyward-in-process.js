// In-process verification, in its own process so its memory figures are its own: core's KeyVerifier
// over a CachedVerdictSource on the SQLite store, wired as packages/server/src/compose.ts wires them
// (100,000 cache entries, 10 s negative TTL, the in-process invalidation bus). One verification at a
// time on one core, each asking for a permission, as `POST /api/keys/verify` does.
//
//   node bench/workers/keyward-in-process.js '<json options>'   (prints one JSON line)

import { readFileSync } from 'node:fs';
import { xorshift32 } from '../lib/random.js';
import { CachedVerdictSource, KeyVerifier, PepperRing, createKeyFormat, createLocalCacheBus, defaultCatalogue, parsePepperSetting, storeVerdictSource, systemClock } from '@keyward/core';
import { openStore } from '@keyward/store';
import { BENCH_PERMISSION, tokenFactory } from '../lib/keyward-db.js';

const options = JSON.parse(process.argv[2]);
const { databaseFile, secretsFile, seed, keyCount, hotKeys, seconds, distinct } = options;
/** How many distinct keys the memory run verifies (every stored key unless told fewer). */
const distinctCount = Math.min(options.distinctLimit ?? keyCount, keyCount);

const secrets = JSON.parse(readFileSync(secretsFile, 'utf8'));
const store = await openStore(`sqlite:${databaseFile}`);
const bus = createLocalCacheBus();
const cache = new CachedVerdictSource(storeVerdictSource(store), bus, { maxEntries: 100_000, negativeTtlMs: 10_000, maxAgeMs: 0 });
const verifier = new KeyVerifier({
  source: cache,
  clock: systemClock,
  peppers: new PepperRing(parsePepperSetting(secrets.pepper)),
  keyFormat: createKeyFormat(),
  catalogue: defaultCatalogue,
});
const tokenOf = tokenFactory(seed);
const mb = (bytes) => Math.round(bytes / 1048576);

const nextIndex = xorshift32(0x9e3779b9);

async function verifyOrFail(token) {
  const verdict = await verifier.verify({ token, permission: BENCH_PERMISSION, orgId: null });
  if (!verdict.valid) throw new Error(`expected a valid verdict, got ${verdict.code}: ${verdict.explanation}`);
}

const result = { keyCount };

if (hotKeys) {
  // Warm: every key of the hot set verified once, then random verifications of the hot set.
  const hot = Math.min(hotKeys, keyCount);
  const tokens = Array.from({ length: hot }, (_, i) => tokenOf(i).token);
  for (const token of tokens) await verifyOrFail(token);
  const missesBefore = cache.misses;
  let count = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let now = started;
  while (now < deadline) {
    for (let i = 0; i < 1024; i++) await verifyOrFail(tokens[nextIndex(hot)]);
    count += 1024;
    now = process.hrtime.bigint();
  }
  const elapsed = Number(now - started) / 1e9;
  Object.assign(result, {
    hotKeys: hot,
    opsPerSecond: Math.round(count / elapsed),
    storeReadsDuringRun: cache.misses - missesBefore,
    cacheEntries: cache.size,
  });
}

if (distinct) {
  // Every stored key once, in batches (tokens are derived before each batch is timed), sampling the
  // resident set size: the cache is bounded, so memory must level off however many keys pass.
  globalThis.gc?.();
  const baseline = process.memoryUsage();
  let peakRss = baseline.rss;
  let verifyNs = 0n;
  const batch = 10_000;
  /** [keys verified so far, RSS in MB, live heap in MB after a GC], ten times over the run. */
  const samples = [];
  for (let from = 0; from < distinctCount; from += batch) {
    const tokens = [];
    for (let i = from; i < Math.min(distinctCount, from + batch); i++) tokens.push(tokenOf(i).token);
    const started = process.hrtime.bigint();
    for (const token of tokens) await verifyOrFail(token);
    verifyNs += process.hrtime.bigint() - started;
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    if ((from + batch) % Math.max(batch, Math.floor(distinctCount / 10)) === 0) {
      // The resident set as it was, then the live heap after a full collection (what is retained).
      globalThis.gc?.();
      samples.push([from + batch, mb(rss), mb(process.memoryUsage().heapUsed)]);
    }
  }
  globalThis.gc?.();
  const end = process.memoryUsage();
  Object.assign(result, {
    distinctVerified: distinctCount,
    coldOpsPerSecond: Math.round(distinctCount / (Number(verifyNs) / 1e9)),
    rssBaselineMb: mb(baseline.rss),
    rssPeakMb: mb(peakRss),
    rssEndMb: mb(end.rss),
    rssSamples: samples,
    heapUsedEndMb: mb(end.heapUsed),
    cacheEntries: cache.size,
  });
}

cache.close();
await bus.close();
await store.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
