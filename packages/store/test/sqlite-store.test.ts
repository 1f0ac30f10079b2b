import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { seedOrg } from '../src/contracts/seed.js';
import { migrateToLatest, openStore } from '../src/index.js';
import { describeDialects } from '../src/testing/open-test-store.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-sqlite-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A second process that, like an operator command next to the server, increments a counter `n` times. */
function incrementInChildProcess(file: string, n: number): Promise<void> {
  const script = `
    const db = new (require('better-sqlite3'))(process.argv[1]);
    db.pragma('busy_timeout = 5000');
    const read = db.prepare("select value from meta where name = 'counter'");
    const write = db.prepare("update meta set value = ? where name = 'counter'");
    for (let i = 0; i < ${n}; i++) {
      db.exec('begin immediate');
      write.run(String(Number(read.get().value) + 1));
      db.exec('commit');
    }`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, file], { cwd: import.meta.dirname, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child exited with ${code}: ${stderr}`))));
  });
}

await describeDialects(
  'embedded SQLite',
  (_dialect, open) => {
    it('runs in WAL mode with synchronous=FULL, no busy wait of its own (the store waits, off the event loop) and foreign keys on (R48)', async () => {
      const { connection } = await open();
      const sqlite = connection.sqlite!;
      expect(sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(sqlite.pragma('synchronous', { simple: true })).toBe(2);
      expect(sqlite.pragma('busy_timeout', { simple: true })).toBe(0);
      expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    });

    it('takes the write lock when a transaction begins (BEGIN IMMEDIATE), before its first statement', async () => {
      const store = await open();
      const file = store.url.slice('sqlite:'.length);
      const probe = new SqliteDatabase(file, { timeout: 0 });
      try {
        const whileOpen = await store.transaction(async () => {
          try {
            probe.exec('begin immediate');
            probe.exec('rollback');
            return 'acquired';
          } catch (err) {
            return (err as { code?: string }).code;
          }
        });
        expect(whileOpen).toBe('SQLITE_BUSY');
        probe.exec('begin immediate');
        probe.exec('rollback');
      } finally {
        probe.close();
      }
    });

    it('loses no update and never fails with SQLITE_BUSY while another process writes the same file', async () => {
      const store = await open();
      await store.meta.set('counter', '0');
      const n = 40;
      const child = incrementInChildProcess(store.url.slice('sqlite:'.length), n);
      for (let i = 0; i < n; i++) {
        await store.transaction(async (tx) => {
          const value = Number(await tx.meta.get('counter'));
          // Give the other process time to commit between this read and the write below.
          await new Promise((resolve) => setTimeout(resolve, 1));
          await tx.meta.set('counter', String(value + 1));
        });
      }
      await child;
      expect(await store.meta.get('counter')).toBe(String(2 * n));
    });
  },
  ['sqlite'],
);

describe('opening SQLite', () => {
  it('creates the parent directories of the file, and does not migrate unless asked', async () => {
    const file = join(tempDir(), 'a', 'b', 'keyward.db');
    const store = await openStore(`sqlite:${file}`);
    try {
      expect(existsSync(file)).toBe(true);
      await expect(store.orgs.count()).rejects.toThrow();
      expect(await migrateToLatest(store)).toEqual(['0001_initial', '0002_access_paths', '0003_invitation_attempts', '0004_audit_order', '0005_invalidation_log', '0006_key_list_orders', '0007_verifier_management', '0008_password_resets', '0009_organization_policy', '0010_webhooks', '0011_expiry_notices', '0012_key_limits', '0013_webhook_fan_out', '0014_webhook_outbox']);
      expect(await store.orgs.count()).toBe(0);
      expect(await migrateToLatest(store)).toEqual([]);
    } finally {
      await store.close();
    }
    expect(await migrateToLatest(`sqlite:${file}`)).toEqual([]);
  });

  it('migrates a database given by URL, and opens it migrated on request', async () => {
    const url = `sqlite:${join(tempDir(), 'keyward.db')}`;
    expect(await migrateToLatest(url)).toEqual(['0001_initial', '0002_access_paths', '0003_invitation_attempts', '0004_audit_order', '0005_invalidation_log', '0006_key_list_orders', '0007_verifier_management', '0008_password_resets', '0009_organization_policy', '0010_webhooks', '0011_expiry_notices', '0012_key_limits', '0013_webhook_fan_out', '0014_webhook_outbox']);
    const store = await openStore(url, { migrate: true });
    await seedOrg(store);
    expect(await store.orgs.count()).toBe(1);
    await store.ping();
    await store.close();
    await store.close();
  });

  it('serves a private in-memory database', async () => {
    const store = await openStore('sqlite::memory:', { migrate: true });
    await seedOrg(store);
    expect(await store.orgs.count()).toBe(1);
    await store.close();
  });

  it('lets exactly one of two stores on one file mark an organization bootstrapped', async () => {
    const url = `sqlite:${join(tempDir(), 'shared.db')}`;
    const [first, second] = [await openStore(url, { migrate: true }), await openStore(url)];
    try {
      const org = await seedOrg(first);
      const results = await Promise.all([first, second, first, second].map((s) => s.orgs.markBootstrapped(org.id, new Date())));
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('refuses a URL that names no supported database', async () => {
    await expect(openStore('mysql://localhost/db')).rejects.toThrow('sqlite:<path> or postgres://');
  });
});
