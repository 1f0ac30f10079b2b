import type { CacheBus, Invalidation } from './ports.js';

/** Invalidations within one process: listeners run synchronously inside `publish`. */
export function createLocalCacheBus(): CacheBus & { emit(event: Invalidation): void } {
  const listeners = new Set<(event: Invalidation) => void>();
  const emit = (event: Invalidation) => {
    for (const listener of listeners) listener(event);
  };
  return {
    emit,
    async publish(event) {
      emit(event);
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
