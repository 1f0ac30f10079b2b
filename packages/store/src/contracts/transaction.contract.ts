import { StoreConflict, type KeyId, type Store } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { at, auditRecord, keyRecord, nextId, seedKey, seedOrg } from './seed.js';

/** `Store.transaction`: a change and its audit entry commit together or not at all (R43). */
export function transactionContract(open: () => Promise<Store>) {
  describe('Store.transaction', () => {
    it('leaves nothing behind when the function throws, neither the change nor its audit entry, and rethrows the same error', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = keyRecord(org.id);
      const entry = auditRecord(org.id, { targetId: key.id });
      const boom = new Error('boom');
      await expect(
        store.transaction(async (tx) => {
          await tx.keys.insert(key);
          await tx.audit.append(entry);
          await tx.usage.add([{ orgId: org.id, keyId: key.id, minuteStart: at(), valid: 1, rejected: 0, rejectedByCode: {} }]);
          expect(await tx.keys.findById(org.id, key.id)).toEqual(key);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await store.keys.findById(org.id, key.id)).toBeNull();
      expect((await store.audit.list(org.id, {}, { limit: 10 })).items).toEqual([]);
      expect(await store.usage.buckets(org.id, key.id, at(-60), at(60), 'minute')).toEqual([]);
    });

    it('commits the change and its audit entry together, and returns what the function returns', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = await store.transaction(async (tx) => {
        const created = await seedKey(tx, org.id);
        await tx.audit.append(auditRecord(org.id, { targetId: created.id, ip: '127.0.0.1', requestId: 'req_1', details: { a: 1 } }));
        return created;
      });
      expect(await store.keys.findById(org.id, key.id)).toEqual(key);
      const [entry] = (await store.audit.list(org.id, { targetId: key.id }, { limit: 10 })).items;
      expect(entry).toMatchObject({ action: 'api_key.created', ip: '127.0.0.1', requestId: 'req_1', details: { a: 1 } });
    });

    it('rolls back earlier writes when a later one conflicts, and reports the StoreConflict', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const existing = await seedKey(store, org.id);
      const fresh = keyRecord(org.id);
      await expect(
        store.transaction(async (tx) => {
          await tx.keys.insert(fresh);
          await tx.keys.insert({ ...keyRecord(org.id), secret: existing.secret });
        }),
      ).rejects.toBeInstanceOf(StoreConflict);
      expect(await store.keys.findById(org.id, fresh.id)).toBeNull();
      // The store is usable after the failed transaction.
      expect(await store.keys.findById(org.id, existing.id)).toEqual(existing);
    });

    it('serializes conditional updates across concurrent transactions: one revocation wins', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id);
      const revoke = (i: number) =>
        store.transaction(async (tx) => {
          const changed = await tx.keys.setRevoked(org.id, key.id, at(i), 'test');
          if (changed) await tx.audit.append(auditRecord(org.id, { action: 'api_key.revoked', targetId: key.id }));
          return changed;
        });
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => revoke(i)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.audit.list(org.id, { action: 'api_key.revoked', targetId: key.id }, { limit: 10 })).items).toHaveLength(1);
      expect(await store.keys.findById(org.id, nextId('key') as KeyId)).toBeNull();
    });
  });
}
