import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '@keyward/core';
import { openTestStore, testDialects, type TestStore } from '../src/testing/open-test-store.js';
import { keyStoreContract } from '../src/contracts/key-store.contract.js';
import { recordsStoreContract } from '../src/contracts/records-store.contract.js';
import { tenantStoreContract } from '../src/contracts/tenant-store.contract.js';

/** Every store contract, against every dialect (STYLE.md §5): one store per dialect, fresh ids per test. */
for (const dialect of await testDialects()) {
  describe(`store contracts on ${dialect}`, () => {
    let store: TestStore | null = null;
    const open = async (): Promise<Store> => (store ??= await openTestStore(dialect));
    afterAll(async () => store?.close());

    keyStoreContract(open);
    tenantStoreContract(open);
    recordsStoreContract(open);

    if (dialect === 'sqlite') {
      it('runs SQLite in WAL mode with synchronous=FULL and foreign keys on', async () => {
        const { connection } = (await open()) as TestStore;
        expect(connection.sqlite!.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(connection.sqlite!.pragma('synchronous', { simple: true })).toBe(2);
        expect(connection.sqlite!.pragma('foreign_keys', { simple: true })).toBe(1);
      });
    }
  });
}
