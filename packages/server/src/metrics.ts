import { createHash, timingSafeEqual } from 'node:crypto';
import type { CachedVerdictSource, InvalidationFollower, KeyVerifier } from '@keyward/core';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the gauges and counters read when Prometheus scrapes: numbers other components keep. */
export interface MetricSources {
  readonly verdictCache: Pick<CachedVerdictSource, 'hits' | 'misses' | 'size'>;
  /** Verifications answered from tokens the verifier remembers, without a cache lookup. */
  readonly verifier?: Pick<KeyVerifier, 'rememberedHits'>;
  /** The store's invalidation log follower; null for a bus that is not the log's (a test's in-process bus). */
  readonly follower: Pick<InvalidationFollower, 'received' | 'lagMs'> | null;
}

export interface ServerMetricsOptions {
  /** Adds the process defaults (CPU, memory, event loop lag, GC): only where /metrics is served. */
  readonly processDefaults: boolean;
}


/**
 * The server's Prometheus series (`GET /metrics`, docs/deployment.md "Monitoring"), in a registry
 * of their own: several composed apps run in one test process, and prom-client's global registry
 * would mix them. Counting a verification is one increment of a pre-bound counter and one histogram
 * observation, so the hot path does not notice it.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly verifications: Counter<'code'>;
  /** Verifications counted since the last scrape, by code: added to the counter when it is collected. */
  private readonly pendingByCode = new Map<string, { count: number }>();
  private readonly verifyDuration: Histogram;
  private readonly verifyErrors: Counter<'status'>;
  private readonly usageFlushDuration: Histogram;
  private readonly usageFlushFailures: Counter;
  /** Webhook delivery attempts by outcome, counted by the delivery worker (compose.ts). */
  readonly webhookDeliveries: Counter<'status'>;

  constructor(sources: MetricSources, options: ServerMetricsOptions) {
    const registers = [this.registry];
    const pending = this.pendingByCode;
    this.verifications = new Counter({
      name: 'keyward_verifications_total',
      help: 'Verifications answered with a verdict, by verdict code (VALID, REVOKED, NOT_FOUND, ...).',
      labelNames: ['code'],
      registers,
      collect() {
        for (const [code, counted] of pending) {
          if (counted.count === 0) continue;
          this.labels(code).inc(counted.count);
          counted.count = 0;
        }
      },
    });
    this.verifyDuration = new Histogram({
      name: 'keyward_verify_duration_seconds',
      help: 'Time to reach a verdict (token check, cached or stored key, usage count), in seconds.',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.verifyErrors = new Counter({
      name: 'keyward_verify_errors_total',
      help: 'Verification requests answered with an error instead of a verdict, by HTTP status.',
      labelNames: ['status'],
      registers,
    });
    new Gauge({
      name: 'keyward_verifier_cache_entries',
      help: "Entries in the verifier's cache (keys, owners, projects).",
      registers,
      collect() {
        this.set(sources.verdictCache.size);
      },
    });
    monotonic(
      'keyward_verifier_cache_hits_total',
      "Lookups the verifier's cache answered, and verifications of tokens it remembered (answered from memory without a lookup).",
      () => sources.verdictCache.hits + (sources.verifier?.rememberedHits ?? 0),
      registers,
    );
    monotonic('keyward_verifier_cache_misses_total', "Lookups the verifier's cache passed to the store.", () => sources.verdictCache.misses, registers);
    this.usageFlushDuration = new Histogram({
      name: 'keyward_usage_flush_duration_seconds',
      help: 'Time to write buffered usage counts to the store, in seconds.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.usageFlushFailures = new Counter({
      name: 'keyward_usage_flush_failures_total',
      help: 'Usage flushes that failed (the counts are kept for the next flush).',
      registers,
    });
    const follower = sources.follower;
    monotonic(
      'keyward_invalidations_received_total',
      "Entries read from the store's invalidation log (changes made by any instance).",
      () => follower?.received ?? 0,
      registers,
    );
    new Gauge({
      name: 'keyward_invalidation_lag_seconds',
      help: 'Time since the last successful read of the invalidation log began; caches are bypassed past 0.9 s.',
      registers,
      collect() {
        this.set(follower ? Math.max(0, follower.lagMs) / 1000 : 0);
      },
    });
    this.webhookDeliveries = new Counter({
      name: 'keyward_webhook_deliveries_total',
      help: 'Webhook delivery attempts, by outcome: succeeded, retrying (failed, tried again later), failed (no retry left, or the endpoint was disabled).',
      labelNames: ['status'],
      registers,
    });
    if (options.processDefaults) collectDefaultMetrics({ register: this.registry });
  }

  /** A verdict was answered; `startedAt` is the `performance.now()` taken when verification began. */
  countVerification(code: string, startedAt: number): void {
    // A plain count per code, added to the counter at the scrape: the counter's own increment hashes its labels.
    const counted = this.pendingByCode.get(code);
    if (counted) counted.count++;
    else this.pendingByCode.set(code, { count: 1 });
    this.verifyDuration.observe((performance.now() - startedAt) / 1000);
  }

  /** A verification request was answered with an error status instead of a verdict. */
  countVerifyError(status: number): void {
    this.verifyErrors.labels(String(status)).inc();
  }

  /** Runs one usage flush, timed; a failure is counted and rethrown. */
  async timeUsageFlush(flush: () => Promise<void>): Promise<void> {
    const startedAt = performance.now();
    try {
      await flush();
    } catch (err) {
      this.usageFlushFailures.inc();
      throw err;
    } finally {
      this.usageFlushDuration.observe((performance.now() - startedAt) / 1000);
    }
  }
}

/** A counter that mirrors a number another component only ever increases. */
function monotonic(name: string, help: string, read: () => number, registers: Registry[]): void {
  let reported = 0;
  new Counter({
    name,
    help,
    registers,
    collect() {
      const value = read();
      if (value > reported) this.inc(value - reported);
      reported = Math.max(reported, value);
    },
  });
}

/**
 * Whether an `Authorization` header carries the metrics token, compared in constant time (digests
 * of equal length, so neither the token's length nor its first differing byte shows in the timing).
 */
export function carriesMetricsToken(authorization: string | undefined, token: string): boolean {
  const presented = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(token)) && presented.length > 0;
}
