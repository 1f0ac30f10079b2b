import {
  PepperRing,
  createKeyVerification,
  reportCreditsExhausted,
  createLocalCacheBus,
  createLogFollowingBus,
  createKeyFormat,
  defaultLimits,
  type LogFollowingBus,
  prefixedIds,
  systemClock,
  type CacheBus,
  type Clock,
  type CoreDeps,
  type CoreLimits,
  type IdGenerator,
  type Store,
} from '@keyward/core';
import { RedisKeyMeter, createRedisCacheBus, createRedisRateLimiter } from '@keyward/redis';
import { openStore, usageWriterFor, type KyselyStore } from '@keyward/store';
import { Redis } from 'ioredis';
import { createCreationQuota } from './adapters/creation-quota.js';
import { createMemoryRateLimiter } from './adapters/memory-rate-limiter.js';
import { buildApp, type BuildAppOptions } from './app.js';
import type { Config } from './config.js';
import type { App } from './http/typed.js';
import { ServerMetrics } from './metrics.js';
import { createDeliveryWorker, type DeliveryWorker, type DeliveryWorkerDeps } from './webhooks/delivery-worker.js';
import { startExpiryScheduler, type ExpiryScheduler } from './scheduled/expiry-scheduler.js';
import { CLIENT_FAILURES_PER_MINUTE, createOAuthComponents } from './oauth/components.js';
import type { Services } from './services.js';

export interface ComposeOptions extends BuildAppOptions {
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  readonly limits?: Partial<CoreLimits>;
  /** An already-open store (tests); otherwise one is opened from the config and migrated. */
  readonly store?: Store;
  readonly bus?: CacheBus;
}

export interface Composed {
  readonly app: App;
  readonly services: Services;
  /** Expiry reminders (`api_key.expiring`, `api_key.expired`), on one instance at a time. */
  readonly expiryReminders: ExpiryScheduler;
  /** Flushes usage, then closes the app, the bus and the store. */
  close(): Promise<void>;
}

/** The one place where adapters are constructed and wired together. */
export async function compose(config: Config, options: ComposeOptions = {}): Promise<Composed> {
  const store = options.store ?? (await openStore(config.databaseUrl, { migrate: true, lockWaitMs: config.sqliteLockWaitMs }));
  let log: ((err: unknown, msg: string) => void) | null = null;
  const report = (msg: string) => (err: unknown) => log?.(err, msg);
  let bus: CacheBus;
  let messages: CacheBus;
  let limiterClient: Redis | null = null;
  let meterClient: Redis | null = null;
  if (config.redisUrl) {
    const redisBus = createRedisCacheBus({ url: config.redisUrl, prefix: config.redisPrefix, onError: report('redis invalidation bus') });
    await redisBus.ready();
    messages = redisBus;
    limiterClient = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 500 });
    limiterClient.on('error', report('redis rate limiter'));
    // Rate limits and credits: one script per metered verification, pipelined within an event-loop turn.
    meterClient = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 500, enableAutoPipelining: true });
    meterClient.on('error', report('redis key meter'));
    const client = limiterClient;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  } else messages = createLocalCacheBus();
  if (options.bus) {
    await messages.close();
    bus = options.bus;
  } else {
    // Correctness comes from the store's invalidation log; Redis (when set) only makes it faster.
    const followed = createLogFollowingBus(store, messages, { onError: report('invalidation log') });
    await followed.start();
    bus = followed;
  }
  const deps: CoreDeps = {
    store,
    bus,
    clock: options.clock ?? systemClock,
    ids: options.ids ?? prefixedIds,
    peppers: new PepperRing(config.peppers),
    keyFormat: createKeyFormat(config.keyPrefix),
    catalogue: config.catalogue,
    limits: { ...defaultLimits, ...options.limits },
    encryptionKey: config.encryptionKey,
  };
  // On a SQLite file, usage is written by a worker thread: a commit's fsync never holds the event loop.
  const usageWriter = 'connection' in store ? usageWriterFor(store as KyselyStore, { lockWaitMs: config.sqliteLockWaitMs }) : undefined;
  const sharedMeter = meterClient;
  const verification = createKeyVerification({
    ...deps,
    cache: { maxEntries: config.verifierCacheEntries, negativeTtlMs: 10_000, maxAgeMs: config.redisUrl ? 60_000 : 0 },
    usage: { maxBufferedEntries: 100_000, ...(usageWriter ? { writer: usageWriter } : {}) },
    ...(sharedMeter
      ? {
          meter: (sinks) =>
            new RedisKeyMeter({
              client: sharedMeter,
              prefix: config.redisPrefix,
              ...sinks,
              onDegraded: (err) =>
                err === null
                  ? log?.(null, 'Redis answers again: rate limits and credits are counted across instances again')
                  : log?.(err, 'Redis cannot answer: rate limits and credits are counted by this instance alone until it does'),
            }),
        }
      : {}),
    onCreditsExhausted: (key) => {
      reportCreditsExhausted(deps, key).catch(report('credits_exhausted event not recorded'));
    },
  });
  const { verifier, cache: verdictCache } = verification;
  const usage = verification.usage!;
  const points = Math.max(1, config.authFailuresPerMinute);
  const authFailures = limiterClient
    ? createRedisRateLimiter({ client: limiterClient, prefix: `${config.redisPrefix}:auth-failures`, points, durationSeconds: 60 })
    : createMemoryRateLimiter({ points, durationSeconds: 60 });
  const clientPoints = Math.max(1, Math.min(points, CLIENT_FAILURES_PER_MINUTE));
  const clientFailures = limiterClient
    ? createRedisRateLimiter({ client: limiterClient, prefix: `${config.redisPrefix}:client-failures`, points: clientPoints, durationSeconds: 60 })
    : createMemoryRateLimiter({ points: clientPoints, durationSeconds: 60 });
  const keyCreations =
    config.keyCreationsPerMinute > 0
      ? createCreationQuota({
          perMinute: config.keyCreationsPerMinute,
          redis: limiterClient ? { client: limiterClient, prefix: `${config.redisPrefix}:key-creations` } : null,
        })
      : null;
  const oauth = createOAuthComponents({ deps, config, verifier, verdictCache, clientFailures });
  const metrics = new ServerMetrics(
    { verdictCache, verifier, follower: (bus as Partial<LogFollowingBus>).follower ?? null },
    { processDefaults: config.metricsToken !== null },
  );
  const redisClient = limiterClient;
  const pingRedis = redisClient ? () => redisClient.ping().then(() => undefined) : null;
  const operations = { metrics, pingRedis, draining: false, requestsSeen: 0 };
  const services: Services = { deps, verification, verifier, verdictCache, usage, authFailures, keyCreations, config, oauth, operations };
  const app = await buildApp(services, options);
  log = (err, msg) => app.log.warn({ err }, msg);
  const webhookWorker = startWebhookDelivery(config, store, deps, {
    requestsSeen: () => operations.requestsSeen,
    onError: (err, msg) => app.log.warn({ err }, msg),
    onAttempt: (status) => metrics.webhookDeliveries.inc({ status }),
  });
  const expiryReminders = startExpiryScheduler({ deps, intervalMs: config.expiryCheckIntervalMs, onError: (err, msg) => app.log.warn({ err }, msg) });

  const timer = setInterval(() => {
    metrics.timeUsageFlush(() => usage.flush()).catch((err: unknown) => app.log.error({ err }, 'usage flush failed; counts kept for the next flush'));
  }, config.usageFlushIntervalMs);
  timer.unref();

  let closed = false;
  return {
    app,
    services,
    expiryReminders,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await expiryReminders.stop();
      await webhookWorker?.stop();
      await app.close();
      await metrics.timeUsageFlush(() => usage.flush({ final: true })).catch((err: unknown) => app.log.error({ err }, 'final usage flush failed'));
      await usage.close();
      verdictCache.close();
      oauth.close();
      if (!options.bus) await bus.close();
      limiterClient?.disconnect();
      meterClient?.disconnect();
      if (!options.store) await store.close();
    },
  };
}

/**
 * This instance's webhook delivery, started, or null when `KEYWARD_WEBHOOK_DELIVERY=off` (an API-only
 * instance: its changes still write their events, which other instances deliver). Sent off the request
 * path, from the outbox, through the store of record: on a SQLite file, commits that did not wait for
 * the disk would only hand their pages to the next one that does, a request's (see the worker's
 * batches while serving).
 */
function startWebhookDelivery(
  config: Config,
  store: Store,
  deps: CoreDeps,
  hooks: Pick<DeliveryWorkerDeps, 'requestsSeen' | 'onError' | 'onAttempt'>,
): DeliveryWorker | null {
  if (!config.webhooks.delivery) return null;
  const worker = createDeliveryWorker({ store, clock: deps.clock, ids: deps.ids, encryptionKey: deps.encryptionKey, settings: config.webhooks, ...hooks });
  worker.start();
  return worker;
}
