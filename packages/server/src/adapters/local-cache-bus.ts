import type { CacheBus, Invalidation } from '@keyward/core';

/** Invalidations within one process: listeners run synchronously inside `publish`. */
export function createLocalCacheBus(): CacheBus {
  const listeners = new Set<(event: Invalidation) => void>();
  return {
    async publish(event) {
      for (const listener of listeners) listener(event);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
    },
  };
}
