// Section (d): verification in process, one at a time on one core (core 1), by
// bench/workers/keyward-in-process.js in a process of its own: through core's verifier as the bench
// wires it, and through the SDK's public embedded verifier as a service calls it; over 10k warm keys
// and over every key of the large set cached; with the live heap each cached key costs, and the
// instructions one verification executes (callgrind).

import { join } from 'node:path';
import { instructionsPerVerification, valgrindPath, valgrindVersion } from '../lib/callgrind.js';
import { root, runNode } from '../lib/processes.js';
import { describeProfile, readProfile, summarizeProfile } from '../lib/profile.js';
import { profileDir } from '../lib/servers.js';
import { int, pct, ratio, table } from '../lib/report.js';

export const SMALL_KEYS = 10_000;
/** Warm keys of the instruction count: their first (cold) verifications run under callgrind too, in both runs. */
const CALLGRIND_KEYS = 1_000;

const kb = (bytes) => (bytes === null || bytes === undefined || Number.isNaN(bytes) ? 'n/a' : `${(bytes / 1024).toFixed(2)} KB`);

export default {
  name: 'inprocess',
  databases: ['small', 'large'],

  async run(ctx) {
    const { settings, log } = ctx;
    const small = await ctx.database('small');
    const large = await ctx.database('large');
    const worker = async (db, options) => {
      // A private copy: the SDK counts usage into the database, and the cached file stays as built.
      const copy = db.copyForRun();
      try {
        const args = {
          databaseFile: copy.databaseFile,
          secretsFile: join(db.dir, 'secrets.json'),
          seed: db.seed,
          keyCount: db.keyCount,
          seconds: settings.inProcessSeconds,
          ...options,
        };
        const result = JSON.parse(await runNode(['--expose-gc', join(root, 'bench/workers/keyward-in-process.js'), JSON.stringify(args)], { core: 1, label: 'in-process verification' }));
        log(`  ${int(result.opsPerSecond)} verifications/s (cold ${int(result.coldOpsPerSecond)}/s), ${result.heapBytesPerKey} bytes of live heap per cached key, ${result.storeReadsDuringRun} store reads in the timed loop`);
        return result;
      } finally {
        copy.remove();
      }
    };
    const keys = settings.keys.toLocaleString('en-US');
    const all = settings.largeVerified;
    const r = {};
    log(`in process (core): ${SMALL_KEYS.toLocaleString('en-US')} keys stored, all warm`);
    r.small = await worker(small, { hotKeys: SMALL_KEYS });
    log('in process (core): one key verified over and over');
    r.oneKey = await worker(small, { hotKeys: 1 });
    log(`in process (core): ${keys} keys stored, ${SMALL_KEYS.toLocaleString('en-US')} warm`);
    r.largeHot10k = await worker(large, { hotKeys: SMALL_KEYS });
    log(`in process (core): ${keys} keys stored, ${all.toLocaleString('en-US')} of them cached (the cache sized for them)`);
    r.largeAll = await worker(large, { hotKeys: all, cacheEntries: all + 1000, samples: true });
    log(`in process (SDK embedded verifier, defaults): ${SMALL_KEYS.toLocaleString('en-US')} keys stored, all warm`);
    r.sdkSmall = await worker(small, { via: 'sdk', hotKeys: SMALL_KEYS });
    log(`in process (SDK embedded verifier, defaults): ${keys} keys stored, ${all.toLocaleString('en-US')} of them verified once, then at random`);
    r.sdkLarge = await worker(large, { via: 'sdk', hotKeys: all });
    // One more run of each 10k row with the CPU profiler on during its timed loop: where the time goes.
    for (const [name, via] of [['small', 'core'], ['sdkSmall', 'sdk']]) {
      const file = join(profileDir, `in-process-${via}.cpuprofile`);
      log(`in process (${via}): one more 10k run with the CPU profiler on`);
      await worker(small, { via, hotKeys: SMALL_KEYS, seconds: settings.profileSeconds, profileFile: file });
      r[name].profile = describeProfile(summarizeProfile(readProfile(file)));
      log(`  ${r[name].profile}`);
    }
    if (valgrindPath) {
      const copy = small.copyForRun();
      r.callgrind = await instructionsPerVerification(
        { databaseFile: copy.databaseFile, secretsFile: join(small.dir, 'secrets.json'), seed: small.seed, keyCount: small.keyCount, hotKeys: CALLGRIND_KEYS },
        { count: 10_000, warmCount: 10_000, log: (line) => log(`  ${line}`) },
      );
      copy.remove();
      log(`  ${int(r.callgrind.instructionsPerVerification)} instructions per verification (callgrind, ${r.callgrind.seconds} s)`);
    } else {
      log('  valgrind is not installed: no instruction count (apt-get install -y valgrind)');
    }
    ctx.results.inprocess = r;
  },

  render(ctx, report) {
    const r = ctx.results.inprocess;
    if (!r) return;
    const { settings } = ctx;
    const stored = (x) => int(x.keyCount);
    report.push('## (d) In-process verification');
    report.push('');
    report.push(
      `\`bench/workers/keyward-in-process.js\`, one process per row on one core (core 1) and a private copy of the database, one verification at a time, each asking for \`traces:read\`. Two ways in: **core**, \`createKeyVerification\` from \`@keyward/core\` on the SQLite store (verdict cache, verifier and usage counts, the assembly the server uses; cache capacity ${int(r.small.cacheCapacity)} entries, or ${int(r.largeAll.cacheCapacity)} where every key of the large set is cached; usage written every ${r.small.usageFlushMs / 1000} s); and **SDK**, the public embedded verifier (\`createEmbeddedVerifier\` from \`@keyward/sdk/embedded\` with its defaults) called as a service calls it, \`await verifier.verify({ key, permission })\`. The keys verified were each verified once first (cold: read from the store) with the live heap measured around that pass (after a full GC each side, the usage counts written first, so the difference is what the cache keeps), then verified at random for ${settings.inProcessSeconds} s, yielding to the event loop every ${r.small.yieldEvery} verifications as a service does between requests. Store reads are reads of the keys table by the process's SQLite driver.`,
    );
    report.push('');
    // The heap of a handful of keys is noise: per key only from a thousand keys on.
    const row = (way, x, verified, rate = x.opsPerSecond, reads = x.storeReadsDuringRun) => [way, stored(x), verified, int(rate), int(reads), x.hotKeys >= 1000 ? kb(x.heapBytesPerKey) : 'n/a'];
    const rows = [
      row('core', r.small, `${int(r.small.hotKeys)} (warm)`),
      row('core', r.oneKey, '1 (the same key every time: the CPU caches stay hot)'),
      row('core', r.largeHot10k, `${int(r.largeHot10k.hotKeys)} (warm)`),
      row('core', r.largeAll, `${int(r.largeAll.hotKeys)} (each verified once first: all cached)`),
      row('core', r.largeAll, `${int(r.largeAll.hotKeys)} distinct, each once (cold: a store read each)`, r.largeAll.coldOpsPerSecond, r.largeAll.storeReadsCold),
      row('SDK embedded', r.sdkSmall, `${int(r.sdkSmall.hotKeys)} (warm)`),
      row('SDK embedded', r.sdkLarge, `${int(r.sdkLarge.hotKeys)} (each verified once first)`),
      row('SDK embedded', r.sdkLarge, `${int(r.sdkLarge.hotKeys)} distinct, each once (cold)`, r.sdkLarge.coldOpsPerSecond, r.sdkLarge.storeReadsCold),
    ];
    report.push(table(['way in', 'keys stored', 'keys verified (at random)', 'verifications/s', 'store reads during the timed loop', 'live heap per cached key'], rows));
    report.push('');
    if (r.largeAll.memorySamples?.length) {
      report.push(
        `Memory of the core run that cached all ${int(r.largeAll.hotKeys)} keys: live heap ${int(r.largeAll.heapBeforeMb)} MB before the first pass and ${int(r.largeAll.heapAfterMb)} MB after it; resident set ${int(r.largeAll.rssBeforeMb)} MB before, ${int(r.largeAll.rssPeakMb)} MB at the peak. Every tenth of the pass the resident set was read, then a full GC was forced and the live heap read:`,
      );
      report.push('');
      report.push(table(['keys verified', 'resident set (MB)', 'live heap after GC (MB)'], r.largeAll.memorySamples.map(([keys, rss, heap]) => [int(keys), int(rss), int(heap)])));
      report.push('');
    }
    if (r.callgrind) {
      const c = r.callgrind;
      report.push(
        `Instructions, a figure the machine's load does not move: the core worker run twice under \`valgrind --tool=callgrind\` (valgrind ${valgrindVersion()}; V8's generated code included) at the same time, ${int(c.hotKeys)} keys verified once and ${int(c.warmCount)} random verifications of them as warm-up in both, then ${int(c.count)} more random verifications in one of them (usage counted as always, written once at the end rather than on a timer that would follow valgrind's speed); the difference of the instructions executed, over ${int(c.count)} (both runs took ${c.seconds} s).`,
      );
      report.push('');
      report.push(table(['figure', 'value'], [['instructions per in-process verification (core, warm)', int(c.instructionsPerVerification)]]));
      report.push('');
    }
  },

  targets(ctx, report) {
    const r = ctx.results.inprocess;
    if (!r) return;
    const all = int(r.largeAll.hotKeys);
    const cached = (x) => (x.storeReadsDuringRun === 0 ? 'every key cached' : `${int(x.storeReadsDuringRun)} store reads in ${int(x.verifications)} verifications`);
    report.target('in process, core, 10k warm keys, one core', '≥ 300,000/s', `${int(r.small.opsPerSecond)}/s`, r.small.opsPerSecond >= 300_000);
    report.target('in process, SDK embedded verifier, 10k warm keys, one core', '≥ 300,000/s', `${int(r.sdkSmall.opsPerSecond)}/s (${cached(r.sdkSmall)})`, r.sdkSmall.opsPerSecond >= 300_000 && r.sdkSmall.storeReadsDuringRun === 0);
    const million = r.largeAll.hotKeys >= 1_000_000 ? '' : `; ${all} keys, not 1M: not judged`;
    report.target(`in process, core, ${all} cached keys at random`, '≥ 250,000/s, 1M keys', `${int(r.largeAll.opsPerSecond)}/s; ${cached(r.largeAll)}${million}`, r.largeAll.hotKeys >= 1_000_000 ? r.largeAll.opsPerSecond >= 250_000 && r.largeAll.storeReadsDuringRun === 0 : null);
    report.target(`in process, SDK embedded verifier, ${all} cached keys at random`, '≥ 250,000/s, 1M keys', `${int(r.sdkLarge.opsPerSecond)}/s; ${cached(r.sdkLarge)}${million}`, r.sdkLarge.hotKeys >= 1_000_000 ? r.sdkLarge.opsPerSecond >= 250_000 && r.sdkLarge.storeReadsDuringRun === 0 : null);
    // The SDK's default cache: does it keep every key of the large set, and at what heap per key?
    const perKey = r.sdkLarge.heapBytesPerKey;
    const forMillion = (perKey * 1_000_000) / 1048576;
    const keeps = r.sdkLarge.storeReadsDuringRun === 0;
    report.target(
      'the default cache holds 1M keys in ≤ 500 MB of live heap (SDK defaults)',
      '≤ 500 MB, no store read',
      `${kb(perKey)} per cached key over ${all} keys, ${int(forMillion)} MB for 1M; ${cached(r.sdkLarge)}${million}`,
      r.sdkLarge.hotKeys >= 1_000_000 ? keeps && forMillion <= 500 : null,
    );
    if (r.sdkSmall && r.small) report.why(`In process, the SDK's embedded verifier ran at ${pct(ratio(r.sdkSmall.opsPerSecond, r.small.opsPerSecond))} of the core wiring's rate over 10k warm keys (${int(r.sdkSmall.opsPerSecond)} vs ${int(r.small.opsPerSecond)}/s) and read the store ${int(r.sdkSmall.storeReadsDuringRun)} times in ${int(r.sdkSmall.verifications)} verifications.`);
    for (const [x, way] of [[r.small, 'core'], [r.sdkSmall, 'SDK embedded verifier']]) {
      if (x.profile) report.why(`In process, ${way}, 10k warm keys, the timed loop profiled in one more run: ${x.profile}.`);
    }
    if (r.callgrind) report.why(`One warm in-process verification (core) executed ${int(r.callgrind.instructionsPerVerification)} instructions; one cached key kept ${kb(r.small.heapBytesPerKey)} of live heap (core, 10k keys) and ${kb(r.sdkLarge.heapBytesPerKey)} (SDK defaults, ${all} keys).`);
  },
};
