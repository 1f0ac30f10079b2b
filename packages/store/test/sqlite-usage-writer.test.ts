import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { StoreUnavailable, type UsageIncrement } from '@keyward/core';
import { afterAll, describe, expect, it } from 'vitest';
import { at, seedKey, seedOrg } from '../src/contracts/seed.js';
import { openStore, sqliteUsageWriter, usageWriterFor, type KyselyStore } from '../src/index.js';

/**
 * Usage on a SQLite file is written by a worker thread on its own connection (the commit's fsync off
 * the event loop), one transaction per flush, and reported written only once committed. The worker is
 * the built one (`dist/`): run `npm run build` first, as `npm test` does.
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function openOnFile(): Promise<{ store: KyselyStore; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-usage-'));
  dirs.push(dir);
  const file = join(dir, 'keyward.db');
  return { store: await openStore(`sqlite:${file}`, { migrate: true }), file };
}

describe('SQLite usage writer (worker thread)', () => {
  it('writes counts and lastUsedAt in one transaction the main connection then reads, and reports them written', async () => {
    const { store, file } = await openOnFile();
    const writer = sqliteUsageWriter({ file });
    try {
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id);
      const increments: UsageIncrement[] = [
        { orgId: org.id, keyId: key.id, minuteStart: at(0), valid: 3, rejected: 1, rejectedByCode: { IP_NOT_ALLOWED: 1 } },
        { orgId: org.id, keyId: key.id, minuteStart: at(60), valid: 2, rejected: 0, rejectedByCode: {} },
      ];
      const reported: Array<[number, number]> = [];
      await writer.write({ increments, touches: [{ keyId: key.id, at: at(61) }], spends: [] }, (i, t) => reported.push([i, t]));
      expect(reported).toEqual([[2, 1]]);
      expect(await store.usage.buckets(org.id, key.id, at(0), at(3600), 'hour')).toEqual([
        { start: at(0), valid: 5, rejected: 1, rejectedByCode: { IP_NOT_ALLOWED: 1 } },
      ]);
      expect((await store.keys.findById(org.id, key.id))?.lastUsedAt).toEqual(at(61));
      // A second flush adds to the same rows (the worker is reused).
      await writer.write({ increments: increments.slice(0, 1), touches: [], spends: [] }, () => {});
      expect((await store.usage.buckets(org.id, key.id, at(0), at(60), 'minute'))[0]?.valid).toBe(6);
    } finally {
      await writer.close();
      await store.close();
    }
  });

  // One row, and 1,500 rows sent to the worker in two parts: all or nothing either way.
  it.each([1, 1_500])('fails without reporting anything written when the write lock stays taken, and writes all on the next try (%i rows)', async (rows) => {
    const { store, file } = await openOnFile();
    const writer = sqliteUsageWriter({ file, lockWaitMs: 100 });
    try {
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id);
      const increments: UsageIncrement[] = Array.from({ length: rows }, (_, i) => ({ orgId: org.id, keyId: key.id, minuteStart: at(i * 60), valid: 1, rejected: 0, rejectedByCode: {} }));
      const batch = { increments, touches: [], spends: [] };
      const other = new SqliteDatabase(file, { timeout: 0 });
      other.exec('begin immediate');
      const reported: number[] = [];
      await expect(writer.write(batch, (i) => reported.push(i))).rejects.toBeInstanceOf(StoreUnavailable);
      other.exec('commit');
      other.close();
      expect(reported).toEqual([]);
      expect(await store.usage.buckets(org.id, key.id, at(0), at(rows * 60), 'day')).toEqual([]);
      await writer.write(batch, (i) => reported.push(i));
      expect(reported).toEqual([rows]);
      const buckets = await store.usage.buckets(org.id, key.id, at(0), at(rows * 60), 'day');
      expect(buckets.reduce((sum, b) => sum + b.valid, 0)).toBe(rows);
    } finally {
      await writer.close();
      await store.close();
    }
  });

  it('writes a batch of thousands of rows, sent to the worker in parts, whole, and reports it written once', async () => {
    const { store, file } = await openOnFile();
    const writer = sqliteUsageWriter({ file });
    try {
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id);
      // 2,500 minutes of one key and its lastUsedAt: three parts of at most 1,000 rows.
      const increments: UsageIncrement[] = Array.from({ length: 2_500 }, (_, i) => ({ orgId: org.id, keyId: key.id, minuteStart: at(i * 60), valid: 1, rejected: 0, rejectedByCode: {} }));
      const reported: Array<[number, number]> = [];
      await writer.write({ increments, touches: [{ keyId: key.id, at: at(2_500 * 60) }], spends: [] }, (i, t) => reported.push([i, t]));
      expect(reported).toEqual([[2_500, 1]]);
      const buckets = await store.usage.buckets(org.id, key.id, at(0), at(2_500 * 60), 'day');
      expect(buckets.reduce((sum, b) => sum + b.valid, 0)).toBe(2_500);
      expect((await store.keys.findById(org.id, key.id))?.lastUsedAt).toEqual(at(2_500 * 60));
    } finally {
      await writer.close();
      await store.close();
    }
  });

  it('starts the worker again after it was closed', async () => {
    const { store, file } = await openOnFile();
    const writer = usageWriterFor(store);
    try {
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id);
      const batch = { increments: [{ orgId: org.id, keyId: key.id, minuteStart: at(0), valid: 1, rejected: 0, rejectedByCode: {} }], touches: [], spends: [] };
      await writer.write(batch, () => {});
      await writer.close();
      await writer.write(batch, () => {});
      expect((await store.usage.buckets(org.id, key.id, at(0), at(60), 'minute'))[0]?.valid).toBe(2);
      expect(file).toContain('keyward.db');
    } finally {
      await writer.close();
      await store.close();
    }
  });

  it('writes on the caller\'s connection for an in-memory database (a worker could not open it)', async () => {
    const store = await openStore('sqlite::memory:', { migrate: true });
    const writer = usageWriterFor(store);
    try {
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id);
      await writer.write({ increments: [{ orgId: org.id, keyId: key.id, minuteStart: at(0), valid: 4, rejected: 0, rejectedByCode: {} }], touches: [], spends: [] }, () => {});
      expect((await store.usage.buckets(org.id, key.id, at(0), at(60), 'minute'))[0]?.valid).toBe(4);
    } finally {
      await writer.close();
      await store.close();
    }
  });
});
