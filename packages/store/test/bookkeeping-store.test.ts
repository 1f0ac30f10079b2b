import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seedOrg } from '../src/contracts/seed.js';
import { openBookkeepingStore, openStore } from '../src/index.js';

/**
 * The bookkeeping store: a second connection to a SQLite file that commits without waiting for the
 * disk (synchronous=NORMAL), while the store of record stays synchronous=FULL (R48).
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('openBookkeepingStore', () => {
  it('opens a relaxed second connection to a SQLite file, sharing its data; the store of record stays FULL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-bookkeeping-'));
    dirs.push(dir);
    const store = await openStore(`sqlite:${join(dir, 'keyward.db')}`, { migrate: true });
    const side = await openBookkeepingStore(store);
    try {
      expect(side).not.toBe(store);
      // 2 is FULL, 1 is NORMAL.
      expect(store.connection.sqlite!.pragma('synchronous', { simple: true })).toBe(2);
      expect(side.connection.sqlite!.pragma('synchronous', { simple: true })).toBe(1);
      const org = await seedOrg(side);
      expect((await store.orgs.findById(org.id))?.id).toBe(org.id);
    } finally {
      await side.close();
      await store.close();
    }
  });

  it('is the store itself for an in-memory database (one connection only)', async () => {
    const store = await openStore('sqlite::memory:', { migrate: true });
    try {
      expect(await openBookkeepingStore(store)).toBe(store);
    } finally {
      await store.close();
    }
  });
});
