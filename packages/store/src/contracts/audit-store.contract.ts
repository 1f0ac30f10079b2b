import { StoreConflict, type Store } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { expectForgedCursorsRefused, pageThrough } from './page-through.js';
import { at, auditRecord, seedOrg } from './seed.js';

/** The audit log: append-only, newest first by `(at, id)`, filters, pages, tenants apart. */
export function auditStoreContract(open: () => Promise<Store>) {
  describe('AuditRepository', () => {
    it('round-trips an entry with every field', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const entry = auditRecord(org.id, {
        actor: { type: 'api_key', id: 'key_abc', preview: 'kw_…abcd' },
        targetId: 'key_abc',
        ip: '2001:db8::1',
        outcome: 'denied',
        requestId: 'req_1',
        details: { reason: 'x', nested: { n: 1 } },
      });
      await store.audit.append(entry);
      expect((await store.audit.list(org.id, {}, { limit: 5 })).items).toEqual([entry]);
      await expect(store.audit.append(entry)).rejects.toBeInstanceOf(StoreConflict);
    });

    it('lists newest first by instant, ties by id, whatever the append order, and pages to a null cursor', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const appended = [];
      // Appended out of time order, as concurrent writers commit, with ties.
      for (let i = 0; i < 9; i++) {
        const entry = auditRecord(org.id, { at: at(i % 3 === 0 ? 0 : 10 - i), details: { i } });
        await store.audit.append(entry);
        appended.push(entry);
      }
      const newestFirst = [...appended].sort((x, y) => y.at.getTime() - x.at.getTime() || (y.id < x.id ? -1 : 1)).map((e) => e.id);
      for (const limit of [1, 2, 7, 20]) {
        const { ids } = await pageThrough((page) => store.audit.list(org.id, {}, page), limit, (e) => e.id);
        expect(ids).toEqual(newestFirst);
      }
      await expectForgedCursorsRefused((page) => store.audit.list(org.id, {}, page));
    });

    it('filters by actor, action and target, alone and together, and pages a filtered list', async () => {
      const store = await open();
      const org = await seedOrg(store);
      for (let i = 0; i < 6; i++) {
        await store.audit.append(
          auditRecord(org.id, {
            actor: { type: 'user', id: i % 2 ? 'usr_odd' : 'usr_even' },
            action: i < 3 ? 'api_key.created' : 'api_key.revoked',
            targetId: `key_${i % 3}`,
            at: at(i),
            details: { i },
          }),
        );
      }
      const is = async (filter: Parameters<Store['audit']['list']>[1]) => (await store.audit.list(org.id, filter, { limit: 10 })).items.map((e) => e.details.i);
      expect(await is({ actorId: 'usr_odd' })).toEqual([5, 3, 1]);
      expect(await is({ action: 'api_key.revoked' })).toEqual([5, 4, 3]);
      expect(await is({ targetId: 'key_2' })).toEqual([5, 2]);
      expect(await is({ actorId: 'usr_even', action: 'api_key.created' })).toEqual([2, 0]);
      expect(await is({ actorId: 'usr_odd', action: 'api_key.revoked', targetId: 'key_1' })).toEqual([]);
      const paged = await pageThrough((page) => store.audit.list(org.id, { actorId: 'usr_even' }, page), 1, (e) => e.id);
      expect(paged.items.map((e) => e.details.i)).toEqual([4, 2, 0]);
    });

    it("never lists another organization's entries, whatever the filter", async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const entry = auditRecord(a.id, { actor: { type: 'user', id: 'usr_x' }, targetId: 'key_x' });
      await store.audit.append(entry);
      expect((await store.audit.list(b.id, {}, { limit: 10 })).items).toEqual([]);
      expect((await store.audit.list(b.id, { actorId: 'usr_x', action: entry.action, targetId: 'key_x' }, { limit: 10 })).items).toEqual([]);
      await store.audit.append(auditRecord(a.id));
      const cursorOfA = (await store.audit.list(a.id, {}, { limit: 1 })).nextCursor;
      expect(cursorOfA).not.toBeNull();
      expect((await store.audit.list(b.id, {}, { limit: 10, cursor: cursorOfA })).items).toEqual([]);
    });
  });
}
