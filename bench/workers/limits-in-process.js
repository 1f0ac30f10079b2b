// Metering in process (issue 14): what a key with one rate limit and credits costs over a key
// without, one verification at a time through core's `createKeyVerification` (the server's assembly),
// on an in-memory SQLite store made here: `keys` keys of each kind (plain; metered: one rate limit
// and credits, both too large to refuse anything), each verified once, then `warmCount` random
// verifications of both kinds as warm-up. Then either:
//   with `count`: exactly `count` random verifications of `kind` ("plain" or "metered"; 0 for the
//     baseline), for instruction counts under callgrind;
//   else: `rounds` interleaved timed loops of `seconds` per kind, each rate taken over the process's
//     CPU time, printed with their medians.
// With `redisUrl`, the metered keys are counted in Redis (RedisKeyMeter), as instances sharing Redis do.
//
//   node bench/workers/limits-in-process.js '<json options>'   (prints one JSON line)

import { randomBytes } from 'node:crypto';
import {
  PepperRing,
  createKey,
  createKeyFormat,
  createKeyVerification,
  createLocalCacheBus,
  createOrganization,
  defaultCatalogue,
  defaultLimits,
  loadUserGrants,
  prefixedIds,
  systemClock,
} from '@keyward/core';
import { RedisKeyMeter } from '@keyward/redis';
import { openStore } from '@keyward/store';
import { Redis } from 'ioredis';
import { BENCH_PERMISSION } from '../lib/keyward-db.js';
import { xorshift32 } from '../lib/random.js';

const options = JSON.parse(process.argv[2]);
const { keys = 200, warmCount = 5000, count = null, kind = 'metered', seconds = 1, rounds = 5, redisUrl = null } = options;

const METERED = {
  rateLimits: [{ name: 'requests', limit: 1_000_000_000, windowSeconds: 86_400 }],
  credits: { remaining: 1_000_000_000 },
};

const store = await openStore('sqlite::memory:', { migrate: true });
const deps = {
  store,
  bus: createLocalCacheBus(),
  clock: systemClock,
  ids: prefixedIds,
  peppers: new PepperRing([{ version: 1, key: randomBytes(32) }]),
  keyFormat: createKeyFormat('kw_'),
  catalogue: defaultCatalogue,
  limits: defaultLimits,
  encryptionKey: randomBytes(32),
};
const made = await createOrganization(deps, { name: 'Bench', ownerEmail: 'bench@example.test', ownerPassword: 'bench-password-1', bootstrap: true });
const { grants } = await loadUserGrants(store, defaultCatalogue, made.organization.id, made.ownerUserId);
const actor = { type: 'user', userId: made.ownerUserId, orgId: made.organization.id, role: 'OWNER', grants };
const tokens = { plain: [], metered: [] };
for (let i = 0; i < keys; i++) {
  tokens.plain.push((await createKey(deps, actor, { name: `plain ${i}`, keyType: 'service' })).token);
  tokens.metered.push((await createKey(deps, actor, { name: `metered ${i}`, keyType: 'service', ...METERED })).token);
}

let client = null;
const verification = createKeyVerification({
  ...deps,
  cache: { maxEntries: 100_000, negativeTtlMs: 10_000, maxAgeMs: 0 },
  usage: { maxBufferedEntries: 100_000 },
  ...(redisUrl
    ? {
        meter: (sinks) => {
          client = new Redis(redisUrl, { enableAutoPipelining: true });
          return new RedisKeyMeter({ client, prefix: `bench-${randomBytes(4).toString('hex')}`, ...sinks });
        },
      }
    : {}),
});

const next = xorshift32(42);
async function verifyOne(list) {
  const verdict = await verification.verify({ token: list[next(keys)], permission: BENCH_PERMISSION });
  if (!verdict.valid) throw new Error(`expected VALID, got ${verdict.code}: ${verdict.explanation}`);
}

for (const list of [tokens.plain, tokens.metered]) for (const token of list) await verification.verify({ token, permission: BENCH_PERMISSION });
for (let i = 0; i < warmCount; i++) {
  await verifyOne(tokens.plain);
  await verifyOne(tokens.metered);
}

let result;
if (count !== null) {
  for (let i = 0; i < count; i++) await verifyOne(tokens[kind]);
  result = { count, kind };
} else {
  /** Verifications per second of CPU time, for `seconds` of wall time. */
  const rate = async (list) => {
    const started = process.cpuUsage();
    const end = performance.now() + seconds * 1000;
    let n = 0;
    while (performance.now() < end) {
      for (let i = 0; i < 100; i++) await verifyOne(list);
      n += 100;
    }
    const cpu = process.cpuUsage(started);
    return n / ((cpu.user + cpu.system) / 1e6);
  };
  const runs = { plain: [], metered: [] };
  for (let round = 0; round < rounds; round++) {
    runs.plain.push(await rate(tokens.plain));
    runs.metered.push(await rate(tokens.metered));
  }
  const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
  result = { runs, plain: median(runs.plain), metered: median(runs.metered) };
}
await verification.usage.flush({ final: true });
await verification.usage.close();
verification.close();
client?.disconnect();
await store.close();
console.log(JSON.stringify(result));
