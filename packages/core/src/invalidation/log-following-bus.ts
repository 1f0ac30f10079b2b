import type { CacheBus, Invalidation, Store } from '../ports.js';
import { InvalidationFollower, systemTimers, type InvalidationFollowerOptions } from './invalidation-follower.js';

export interface LogFollowingBusOptions extends InvalidationFollowerOptions {
  /** How often old log entries are pruned (default 10 min); entries are kept `retentionMs` (1 h). */
  readonly pruneEveryMs?: number;
}

export type LogFollowingBus = CacheBus & {
  readonly follower: InvalidationFollower;
  /** Starts following from the log's current end; resolves once the first read position is known. */
  start(): Promise<void>;
};

/**
 * The bus every instance uses (issue 11): changes reach other instances through the store's
 * invalidation log, which use cases write in the change's transaction, so correctness never depends
 * on a message. `inner` (in process, or Redis pub/sub) still carries events at once: to this
 * instance's caches before the change answers, and to others sooner than the log. Caches are trusted
 * only while the log is being read (`healthy`), so a lost message, a lost NOTIFY or an unreachable
 * database can never leave a revoked key accepted for more than a second.
 */
export function createLogFollowingBus(store: Pick<Store, 'invalidations' | 'watchChanges'>, inner: CacheBus, options: LogFollowingBusOptions = {}): LogFollowingBus {
  const listeners = new Set<(event: Invalidation) => void>();
  const emit = (event: Invalidation) => {
    for (const listener of listeners) listener(event);
  };
  const follower = new InvalidationFollower(store.invalidations, emit, options);
  const unsubscribeInner = inner.subscribe(emit);
  const timers = options.timers ?? systemTimers;
  const retentionMs = options.retentionMs ?? 3_600_000;
  let watch: { close(): Promise<void> } | null = null;
  let pruneTimer: NodeJS.Timeout | null = null;
  let closed = false;

  return {
    follower,
    get healthy() {
      return !closed && follower.healthy;
    },
    async start() {
      await follower.start();
      if (closed) return;
      watch = store.watchChanges(() => follower.wake());
      pruneTimer = setInterval(() => {
        store.invalidations.prune(new Date(timers.now() - retentionMs)).catch(options.onError ?? (() => {}));
      }, options.pruneEveryMs ?? 600_000);
      pruneTimer.unref();
    },
    async publish(event) {
      await inner.publish(event);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      follower.close();
      if (pruneTimer) clearInterval(pruneTimer);
      unsubscribeInner();
      listeners.clear();
      await watch?.close();
      await inner.close();
    },
  };
}
