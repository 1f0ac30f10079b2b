import type { Invalidation, Store } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { nextId } from './seed.js';

/** The invalidation log: appended in transactions, read in sequence order, pruned by age. */
export function invalidationStoreContract(open: () => Promise<Store>) {
  describe('InvalidationLog', () => {
    const event = (): Invalidation => ({ type: 'key', orgId: nextId('org') as never, keyId: nextId('key') as never });

    it('reads what was appended after a position, oldest first, within a limit', async () => {
      const store = await open();
      const start = await store.invalidations.latestSeq();
      const events = [event(), event(), event()];
      for (const e of events) await store.invalidations.append(e, new Date());
      const read = await store.invalidations.after(start, 10);
      expect(read.map((entry) => entry.event)).toEqual(events);
      expect(read.map((entry) => entry.seq)).toEqual([...read.map((entry) => entry.seq)].sort((x, y) => x - y));
      expect(await store.invalidations.latestSeq()).toBe(read.at(-1)!.seq);
      expect((await store.invalidations.after(start, 2)).map((entry) => entry.event)).toEqual(events.slice(0, 2));
      expect(await store.invalidations.after(read.at(-1)!.seq, 10)).toEqual([]);
    });

    it('keeps an append made in a rolled-back transaction out of the log, and one made in a committed one in it', async () => {
      const store = await open();
      const start = await store.invalidations.latestSeq();
      const lost = event();
      await expect(
        store.transaction(async (tx) => {
          await tx.invalidations.append(lost, new Date());
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      const kept = event();
      await store.transaction((tx) => tx.invalidations.append(kept, new Date()));
      expect((await store.invalidations.after(start, 10)).map((entry) => entry.event)).toEqual([kept]);
    });

    it('prunes entries older than a time, never the newer ones, and never reuses a sequence number', async () => {
      const store = await open();
      const old = event();
      await store.invalidations.append(old, new Date(Date.now() - 2 * 3_600_000));
      const start = await store.invalidations.latestSeq();
      const recent = event();
      await store.invalidations.append(recent, new Date());
      expect(await store.invalidations.prune(new Date(Date.now() - 3_600_000))).toBeGreaterThanOrEqual(1);
      const remaining = await store.invalidations.after(0, 100_000);
      expect(remaining.map((entry) => entry.event)).not.toContainEqual(old);
      expect(remaining.map((entry) => entry.event)).toContainEqual(recent);
      const next = event();
      await store.invalidations.append(next, new Date());
      const [appended] = await store.invalidations.after(start + 1, 10);
      expect(appended?.event).toEqual(next);
    });
  });
}
