import type { KeyId, Store, UsageIncrement } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { nextId, seedOrg } from './seed.js';

const t = (h: number, m: number, day = 1) => new Date(Date.UTC(2030, 0, day, h, m));

/** Usage counts: upsert-add per (key, minute, code), aggregation by minute, hour and day, top keys. */
export function usageStoreContract(open: () => Promise<Store>) {
  describe('UsageRepository', () => {
    it('adds counts per minute and code and aggregates them by minute, hour and day, oldest first', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const k1 = nextId('key') as KeyId;
      const k2 = nextId('key') as KeyId;
      const inc = (keyId: KeyId, minuteStart: Date, valid: number, rejectedByCode: Record<string, number> = {}): UsageIncrement => ({
        orgId: org.id,
        keyId,
        minuteStart,
        valid,
        rejected: Object.values(rejectedByCode).reduce((s, n) => s + n, 0),
        rejectedByCode,
      });
      await store.usage.add([inc(k1, t(10, 1), 3, { EXPIRED: 1 }), inc(k2, t(10, 1), 1)]);
      await store.usage.add([inc(k1, t(10, 1), 2, { EXPIRED: 1, IP_NOT_ALLOWED: 1 })]);
      await store.usage.add([inc(k1, t(11, 30), 1), inc(k1, t(11, 30), 1), inc(k1, t(9, 0, 2), 4)]);
      await store.usage.add([inc(k2, t(10, 59), 0, { REVOKED: 2 })]);
      await store.usage.add([]);

      expect(await store.usage.buckets(org.id, k1, t(0, 0), t(0, 0, 3), 'minute')).toEqual([
        { start: t(10, 1), valid: 5, rejected: 3, rejectedByCode: { EXPIRED: 2, IP_NOT_ALLOWED: 1 } },
        { start: t(11, 30), valid: 2, rejected: 0, rejectedByCode: {} },
        { start: t(9, 0, 2), valid: 4, rejected: 0, rejectedByCode: {} },
      ]);
      expect(await store.usage.buckets(org.id, null, t(0, 0), t(0, 0, 3), 'hour')).toEqual([
        { start: t(10, 0), valid: 6, rejected: 5, rejectedByCode: { EXPIRED: 2, IP_NOT_ALLOWED: 1, REVOKED: 2 } },
        { start: t(11, 0), valid: 2, rejected: 0, rejectedByCode: {} },
        { start: t(9, 0, 2), valid: 4, rejected: 0, rejectedByCode: {} },
      ]);
      expect(await store.usage.buckets(org.id, null, t(0, 0), t(0, 0, 3), 'day')).toEqual([
        { start: t(0, 0), valid: 8, rejected: 5, rejectedByCode: { EXPIRED: 2, IP_NOT_ALLOWED: 1, REVOKED: 2 } },
        { start: t(0, 0, 2), valid: 4, rejected: 0, rejectedByCode: {} },
      ]);
      // [from, to): the minute at `to` is out, the one at `from` is in.
      expect((await store.usage.buckets(org.id, k1, t(10, 1), t(11, 30), 'minute')).map((b) => b.start)).toEqual([t(10, 1)]);
      expect(await store.usage.buckets(org.id, k2, t(12, 0), t(13, 0), 'minute')).toEqual([]);
    });

    it('ranks keys by total verifications, valid and rejected, within the range', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const [a, b, c] = [nextId('key'), nextId('key'), nextId('key')] as KeyId[];
      await store.usage.add([
        { orgId: org.id, keyId: a!, minuteStart: t(10, 0), valid: 5, rejected: 0, rejectedByCode: {} },
        { orgId: org.id, keyId: b!, minuteStart: t(10, 0), valid: 1, rejected: 6, rejectedByCode: { EXPIRED: 6 } },
        { orgId: org.id, keyId: c!, minuteStart: t(10, 0), valid: 2, rejected: 0, rejectedByCode: {} },
        { orgId: org.id, keyId: c!, minuteStart: t(12, 0), valid: 100, rejected: 0, rejectedByCode: {} },
      ]);
      expect(await store.usage.topKeys(org.id, t(0, 0), t(11, 0), 10)).toEqual([
        { keyId: b, valid: 1, rejected: 6 },
        { keyId: a, valid: 5, rejected: 0 },
        { keyId: c, valid: 2, rejected: 0 },
      ]);
      expect(await store.usage.topKeys(org.id, t(0, 0), t(23, 0), 1)).toEqual([{ keyId: c, valid: 102, rejected: 0 }]);
      expect(await store.usage.topKeys(org.id, t(13, 0), t(23, 0), 10)).toEqual([]);
    });

    it('keeps rejections without a code, under UNSPECIFIED, so totals stay exact', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = nextId('key') as KeyId;
      await store.usage.add([{ orgId: org.id, keyId: key, minuteStart: t(10, 0), valid: 0, rejected: 3, rejectedByCode: { EXPIRED: 1 } }]);
      expect(await store.usage.buckets(org.id, key, t(0, 0), t(23, 0), 'minute')).toEqual([
        { start: t(10, 0), valid: 0, rejected: 3, rejectedByCode: { EXPIRED: 1, UNSPECIFIED: 2 } },
      ]);
    });

    it("never counts or ranks one organization's usage for another, even given its key id", async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const key = nextId('key') as KeyId;
      await store.usage.add([{ orgId: a.id, keyId: key, minuteStart: t(10, 0), valid: 7, rejected: 0, rejectedByCode: {} }]);
      expect(await store.usage.buckets(b.id, key, t(0, 0), t(23, 0), 'minute')).toEqual([]);
      expect(await store.usage.buckets(b.id, null, t(0, 0), t(23, 0), 'day')).toEqual([]);
      expect(await store.usage.topKeys(b.id, t(0, 0), t(23, 0), 10)).toEqual([]);
      expect(await store.usage.topKeys(a.id, t(0, 0), t(23, 0), 10)).toEqual([{ keyId: key, valid: 7, rejected: 0 }]);
    });

    it('adds a flush larger than one statement, all of it', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const keys = Array.from({ length: 300 }, () => nextId('key') as KeyId);
      const increments = keys.flatMap((keyId): UsageIncrement[] => [
        { orgId: org.id, keyId, minuteStart: t(10, 0), valid: 1, rejected: 1, rejectedByCode: { EXPIRED: 1 } },
        { orgId: org.id, keyId, minuteStart: t(10, 1), valid: 2, rejected: 0, rejectedByCode: {} },
      ]);
      await store.usage.add(increments);
      expect(await store.usage.buckets(org.id, null, t(0, 0), t(23, 0), 'hour')).toEqual([
        { start: t(10, 0), valid: 900, rejected: 300, rejectedByCode: { EXPIRED: 300 } },
      ]);
    });
  });
}
