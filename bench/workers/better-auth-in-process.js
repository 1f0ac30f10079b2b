// Better Auth's API-key verification in process: `auth.api.verifyApiKey` one call at a time on one
// core, each for a random stored key, and the rows it writes (SQLite's total_changes()).
//
//   node bench/workers/better-auth-in-process.js '<json options>'   (prints one JSON line)

import { readFileSync } from 'node:fs';
import { xorshift32 } from '../lib/random.js';
import { createBetterAuth } from '../lib/better-auth.js';

const { databaseFile, metaFile, seconds, synchronous } = JSON.parse(process.argv[2]);
const { tokens } = JSON.parse(readFileSync(metaFile, 'utf8'));
const { auth, database } = createBetterAuth(databaseFile, synchronous);

const nextIndex = xorshift32(0x9e3779b9);

async function verifyOrFail(key) {
  const result = await auth.api.verifyApiKey({ body: { key } });
  if (!result.valid) throw new Error(`expected a valid key, got ${JSON.stringify(result.error)}`);
}

for (let i = 0; i < Math.min(200, tokens.length); i++) await verifyOrFail(tokens[i]); // warm-up
const changes = database.prepare('select total_changes() as n');
const changesBefore = changes.get().n;
let count = 0;
const started = process.hrtime.bigint();
const deadline = started + BigInt(Math.round(seconds * 1e9));
let now = started;
while (now < deadline) {
  for (let i = 0; i < 16; i++) await verifyOrFail(tokens[nextIndex(tokens.length)]);
  count += 16;
  now = process.hrtime.bigint();
}
const elapsed = Number(now - started) / 1e9;
const rowWrites = changes.get().n - changesBefore;
database.close();
process.stdout.write(`${JSON.stringify({ opsPerSecond: Math.round(count / elapsed), verifications: count, rowWritesPerVerification: Math.round((rowWrites / count) * 100) / 100 })}\n`);
