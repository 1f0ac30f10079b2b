import type { Store } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { nextId } from './seed.js';

/** Named deployment values, with an insert-if-absent that exactly one caller wins. */
export function metaStoreContract(open: () => Promise<Store>) {
  describe('MetaRepository', () => {
    it('gets, sets, overwrites and deletes a value', async () => {
      const store = await open();
      const name = nextId('meta');
      expect(await store.meta.get(name)).toBeNull();
      await store.meta.set(name, 'one');
      await store.meta.set(name, 'two');
      expect(await store.meta.get(name)).toBe('two');
      expect(await store.meta.delete(name)).toBe(true);
      expect(await store.meta.delete(name)).toBe(false);
      expect(await store.meta.get(name)).toBeNull();
    });

    it('inserts if absent for exactly one of many concurrent callers, and never overwrites', async () => {
      const store = await open();
      const name = nextId('meta');
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.meta.setIfAbsent(name, String(i))));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.meta.get(name)).toBe(String(results.indexOf(true)));
      expect(await store.meta.setIfAbsent(name, 'later')).toBe(false);
      expect(await store.meta.get(name)).toBe(String(results.indexOf(true)));
    });
  });
}
