import { randomBytes } from 'node:crypto';
import type { CacheBus, Invalidation } from '@keyward/core';
import { Redis, type RedisOptions } from 'ioredis';

export interface RedisCacheBusOptions {
  readonly url: string;
  /** The pub/sub channel is `<prefix>:invalidations`; instances of one deployment share a prefix. */
  readonly prefix?: string;
  /** How long a publish may wait for Redis before the change answers anyway (R50). */
  readonly publishTimeoutMs?: number;
  readonly onError?: (err: unknown) => void;
}

interface Message {
  readonly origin: string;
  readonly event: Invalidation;
}

/**
 * Invalidations across server instances over Redis pub/sub (DESIGN.md "Scale-out"). A publish runs
 * this instance's listeners at once, then publishes to the others; a received message runs the local
 * listeners. Redis is never the source of truth: while the subscription is down, `healthy` is false
 * (caches read through to the database), and when it comes back every cache is dropped, since
 * messages sent in between were lost.
 */
export function createRedisCacheBus(options: RedisCacheBusOptions): CacheBus & { ready(): Promise<void> } {
  const origin = randomBytes(8).toString('hex');
  const channel = `${options.prefix ?? 'keyward'}:invalidations`;
  const listeners = new Set<(event: Invalidation) => void>();
  const redisOptions: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    enableOfflineQueue: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  const publisher = new Redis(options.url, redisOptions);
  const subscriber = new Redis(options.url, { ...redisOptions, enableOfflineQueue: true });
  let healthy = false;
  let closed = false;
  const emit = (event: Invalidation) => {
    for (const listener of listeners) listener(event);
  };
  const report = (err: unknown) => options.onError?.(err);
  publisher.on('error', report);
  subscriber.on('error', report);
  subscriber.on('close', () => {
    if (healthy) emit({ type: 'all' });
    healthy = false;
  });
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(
      () => {
        // Anything published while we were away is lost: start from empty caches.
        emit({ type: 'all' });
        healthy = true;
      },
      report,
    );
  });
  subscriber.on('message', (received: string, payload: string) => {
    if (received !== channel) return;
    try {
      const message = JSON.parse(payload) as Message;
      if (message.origin !== origin) emit(message.event);
    } catch (err) {
      report(err);
    }
  });
  const connecting = Promise.allSettled([publisher.connect(), subscriber.connect()]);

  return {
    get healthy() {
      return healthy && !closed;
    },
    async ready() {
      await connecting;
      const deadline = Date.now() + 3000;
      while (!healthy && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    },
    async publish(event) {
      emit(event);
      const message: Message = { origin, event };
      try {
        await Promise.race([
          publisher.publish(channel, JSON.stringify(message)),
          new Promise((_, reject) => setTimeout(() => reject(new Error('redis publish timed out')), options.publishTimeoutMs ?? 1000).unref()),
        ]);
      } catch (err) {
        // Other instances may miss this one; their caches are bounded by their max age, and a lost
        // subscription drops them entirely. The change itself is committed.
        report(err);
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      listeners.clear();
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
