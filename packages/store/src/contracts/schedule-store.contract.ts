import type { Store } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { at, nextId, seedKey, seedOrg } from './seed.js';

/** Expiry notices (claimed once per key, stage and expiry date) and named leases (one holder at a time). */
export function scheduleStoreContract(open: () => Promise<Store>) {
  describe('ExpiryNoticeRepository', () => {
    it('lists live keys expiring in the range without a notice of the stage, soonest first, and claims each once', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const soon = await seedKey(store, org.id, { expiresAt: at(3600) });
      const later = await seedKey(store, org.id, { expiresAt: at(7200) });
      await seedKey(store, org.id, { expiresAt: at(3600), revokedAt: at(0), revokedReason: null });
      await seedKey(store, org.id, { expiresAt: at(3600), disabledAt: at(0) });
      await seedKey(store, org.id, { expiresAt: at(9000) }); // outside the range
      const mine = (keys: { id: string }[]) => keys.map((k) => k.id).filter((id) => id === soon.id || id === later.id);

      expect(mine(await store.expiryNotices.due('1d', at(0), at(7200), 1000))).toEqual([soon.id, later.id]);
      const notice = { keyId: soon.id, orgId: org.id, stage: '1d' as const, expiresAt: at(3600), sentAt: at(10) };
      expect(await store.expiryNotices.claim(notice)).toBe(true);
      expect(await store.expiryNotices.claim(notice)).toBe(false);
      expect(mine(await store.expiryNotices.due('1d', at(0), at(7200), 1000))).toEqual([later.id]);
      // Another stage, or another expiry date of the same key, is another notice.
      expect(mine(await store.expiryNotices.due('expired', at(0), at(7200), 1000))).toEqual([soon.id, later.id]);
      expect(await store.expiryNotices.claim({ ...notice, expiresAt: at(3700) })).toBe(true);
    });
  });

  describe('LeaseRepository', () => {
    it('gives a lease to one holder until it expires or is released, and lets the holder extend it', async () => {
      const store = await open();
      const name = nextId('lease');
      expect(await store.leases.acquire(name, 'a', at(0), at(30))).toBe(true);
      expect(await store.leases.acquire(name, 'b', at(10), at(40))).toBe(false);
      expect(await store.leases.acquire(name, 'a', at(20), at(50))).toBe(true); // extended to 50
      expect(await store.leases.acquire(name, 'b', at(40), at(70))).toBe(false);
      expect(await store.leases.acquire(name, 'b', at(50), at(80))).toBe(true); // expired: taken over
      await store.leases.release(name, 'a'); // not a's any more: nothing happens
      expect(await store.leases.acquire(name, 'a', at(60), at(90))).toBe(false);
      await store.leases.release(name, 'b');
      expect(await store.leases.acquire(name, 'a', at(60), at(90))).toBe(true);
    });
  });
}
