// Better Auth 1.7 with its API-key plugin (@better-auth/api-key) on a SQLite file in WAL mode, the
// peer of Keyward's verification. Its default per-key rate limit (10 requests a day) is raised so it
// never refuses during a run; everything else is the plugin's default (keys hashed, rate-limit
// counters kept in the database, updates not deferred).

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiKey } from '@better-auth/api-key';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import Database from 'better-sqlite3';
import { cacheDir } from './keyward-db.js';
import { onExit } from './processes.js';

const CACHE_VERSION = 1;
/** Keys of the Better Auth database the benchmark measures. */
export const BETTER_AUTH_KEYS = 1000;
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';

/**
 * A Better Auth instance over the SQLite file `file` in WAL mode, with `synchronous` FULL (what
 * Keyward's store uses: a commit survives power loss) or NORMAL (no fsync per commit in WAL mode:
 * the setting kindest to a library that writes on every verification).
 */
export function createBetterAuth(file, synchronous = 'FULL') {
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') throw new Error('synchronous is FULL or NORMAL');
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${synchronous}`);
  database.pragma('busy_timeout = 5000');
  const options = {
    database,
    secret: SECRET,
    baseURL: 'http://127.0.0.1',
    emailAndPassword: { enabled: true },
    logger: { disabled: true },
    telemetry: { enabled: false },
    plugins: [apiKey({ rateLimit: { enabled: true, timeWindow: 1000, maxRequests: 1_000_000_000 } })],
  };
  return { auth: betterAuth(options), options, database };
}

/**
 * The cached Better Auth database with `keyCount` keys made through `auth.api.createApiKey`, built
 * if missing; returns its directory, the key tokens and `copyForRun()`.
 */
export async function betterAuthDatabase(keyCount, { log = () => {} } = {}) {
  const dir = join(cacheDir, `better-auth-${keyCount}`);
  const metaFile = join(dir, 'meta.json');
  const describe = (meta) => ({
    ...meta,
    dir,
    copyForRun() {
      const runDir = mkdtempSync(join(tmpdir(), 'better-auth-bench-'));
      const remove = onExit(() => rmSync(runDir, { recursive: true, force: true }));
      copyFileSync(join(dir, 'auth.db'), join(runDir, 'auth.db'));
      return { dir: runDir, databaseFile: join(runDir, 'auth.db'), remove };
    },
  });
  if (existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    if (meta.version === CACHE_VERSION && meta.keyCount === keyCount) {
      log(`using the cached Better Auth database with ${keyCount.toLocaleString('en-US')} keys`);
      return describe(meta);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  log(`building a Better Auth database with ${keyCount.toLocaleString('en-US')} keys through its API (cached for later runs)`);
  const { auth, options, database } = createBetterAuth(join(dir, 'auth.db'));
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  const signedUp = await auth.api.signUpEmail({ body: { email: 'bench@example.test', password: 'bench-password-123', name: 'Bench' } });
  const userId = signedUp.user.id;
  const tokens = [];
  for (let i = 0; i < keyCount; i++) {
    const created = await auth.api.createApiKey({ body: { userId, name: `bench ${i}` } });
    tokens.push(created.key);
  }
  database.pragma('wal_checkpoint(TRUNCATE)');
  database.close();
  const meta = { version: CACHE_VERSION, keyCount, userId, tokens, buildSeconds: Math.round((Date.now() - started) / 100) / 10 };
  writeFileSync(metaFile, JSON.stringify(meta));
  log(`built in ${meta.buildSeconds} s`);
  return describe(meta);
}
