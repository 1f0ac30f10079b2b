import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type SqliteDatabase from 'better-sqlite3';
import { StoreUnavailable } from '@keyward/core';
import { afterAll, describe, expect, it } from 'vitest';
import { at, seedKey, seedOrg } from '../src/contracts/seed.js';
import { openStore } from '../src/index.js';
import { readOnReader } from '../src/repositories/db.js';

/**
 * On a SQLite file, the verifier's key lookups run on a second, read-only connection: they read the
 * last commit at once, whatever transaction this process holds open on the main connection.
 * @see issue 13 (unknown keys no slower than valid ones)
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function fileUrl(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-reader-'));
  dirs.push(dir);
  return `sqlite:${join(dir, 'keyward.db')}`;
}

describe('the SQLite verification reader', () => {
  it('finds keys by lookup id and by digest while a transaction is open, seeing only what was committed', async () => {
    const store = await openStore(fileUrl(), { migrate: true });
    try {
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id);
      let seenInside: unknown = 'not run';
      await store.transaction(async (tx) => {
        await tx.keys.setRevoked(org.id, key.id, at(5), 'test');
        // The outer store's other reads would wait for this transaction (one connection); these do not,
        // and they see the state before it.
        const [byLookupId, byDigest] = await Promise.all([
          store.keys.findForVerificationByLookupId(key.lookupId!),
          store.keys.findForVerificationByDigest(key.secret.digest),
        ]);
        seenInside = [byLookupId?.revokedAt, byDigest?.id];
        expect(tx.keys.findForVerificationByLookupIdNow).toBeUndefined();
        // Inside the transaction, its own write is seen (the reader is not used there).
        expect((await tx.keys.findForVerificationByLookupId(key.lookupId!))?.revokedAt).toEqual(at(5));
      });
      expect(seenInside).toEqual([null, key.id]);
      // At once, without a promise.
      expect(store.keys.findForVerificationByLookupIdNow!(key.lookupId!)?.revokedAt).toEqual(at(5));
      expect(store.keys.findForVerificationByLookupIdNow!('0000000000000000')).toBeNull();
      expect((await store.keys.findForVerificationByLookupId(key.lookupId!))?.revokedAt).toEqual(at(5));
      expect(await store.keys.findForVerificationByLookupId('0000000000000000')).toBeNull();
      expect(await store.keys.findForVerificationByDigest('00'.repeat(32))).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('is read-only, and closes with the store', async () => {
    const store = await openStore(fileUrl(), { migrate: true });
    const reader = store.connection.sqliteReader!;
    expect(reader.readonly).toBe(true);
    expect(() => reader.exec("insert into meta (name, value) values ('x', 'y')")).toThrow(/readonly/);
    await store.close();
    expect(reader.open).toBe(false);
  });

  it('is not opened when not asked for (the usage worker), and lookups then read through Kysely', async () => {
    const store = await openStore(fileUrl(), { migrate: true, verificationReader: false });
    try {
      expect(store.connection.sqliteReader).toBeUndefined();
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id);
      expect((await store.keys.findForVerificationByLookupId(key.lookupId!))?.id).toBe(key.id);
    } finally {
      await store.close();
    }
  });

  it('is not opened for an in-memory database, whose lookups read through Kysely', async () => {
    const store = await openStore('sqlite::memory:', { migrate: true });
    try {
      expect(store.connection.sqliteReader).toBeUndefined();
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id);
      expect((await store.keys.findForVerificationByLookupId(key.lookupId!))?.id).toBe(key.id);
      expect(store.keys.findForVerificationByLookupIdNow).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe('readOnReader', () => {
  const failing = (code: string) =>
    ({
      prepare: () => {
        throw Object.assign(new Error(code), { code });
      },
    }) as unknown as SqliteDatabase.Database;

  it('leaves a read that met a lock to the caller (undefined), and throws other failures in store terms', () => {
    expect(readOnReader(null, 'select 1')).toBeUndefined();
    expect(readOnReader(failing('SQLITE_BUSY'), 'select 1')).toBeUndefined();
    expect(() => readOnReader(failing('SQLITE_IOERR_READ'), 'select 1')).toThrow(StoreUnavailable);
  });
});
