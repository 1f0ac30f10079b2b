import type { PermissionCatalogue } from '../permissions/catalogue.js';
import type { CacheBus, Clock, Store, UsageWriter } from '../ports.js';
import { transactionalUsageWriter } from '../usage/transactional-usage-writer.js';
import { UsageRecorder, type UsageRecorderOptions } from '../usage/usage-recorder.js';
import type { PepperRing } from './key-digest.js';
import type { KeyFormat } from './key-format.js';
import { CachedVerdictSource, storeVerdictSource, type VerdictCacheOptions } from './verdict-source.js';
import { InvalidAskError, KeyVerifier, type KeyVerdict, type VerifyRequest } from './verify-key.js';
import { COST_MAX, describeLimit } from '../limits/key-limits.js';
import { isMetered, type CreditSpendSink, type KeyMeter, type MeterReading, type MeteredKey } from '../limits/key-meter.js';
import { LocalKeyMeter } from '../limits/local-key-meter.js';
import type { ApiKeyRecord } from './api-key.js';
import { CachedKey } from './cached-key.js';

export interface KeyVerificationOptions {
  readonly store: Store;
  /** The invalidations the cache follows; while it is not healthy the cache reads through. */
  readonly bus: CacheBus;
  readonly clock: Clock;
  readonly peppers: PepperRing;
  readonly keyFormat: KeyFormat;
  readonly catalogue: PermissionCatalogue;
  readonly cache: VerdictCacheOptions;
  /** Counts of verifications for usage and `lastUsedAt`, buffered until `usage.flush()`; false: none. */
  readonly usage?: (UsageRecorderOptions & { readonly writer?: UsageWriter }) | false;
  /**
   * Counts rate limits and credits: made by this (Redis, shared by instances), or in this process (the
   * default). Spent credits go to `spent` (the usage recorder, which writes them with its flush).
   */
  readonly meter?: (sinks: MeterSinks) => KeyMeter;
  /** Called when a verification spends a key's last credit. */
  readonly onCreditsExhausted?: (key: ApiKeyRecord) => void;
}

/** Where a meter sends spent credits, and whom it tells of a key's last credit. */
export interface MeterSinks {
  readonly spent: CreditSpendSink;
  readonly onExhausted: (key: MeteredKey) => void;
}

/** The verifier as every caller needs it: cache, verifier and usage counts, assembled once. */
export interface KeyVerification {
  readonly verifier: KeyVerifier;
  readonly cache: CachedVerdictSource;
  readonly usage: UsageRecorder | null;
  readonly meter: KeyMeter;
  /**
   * Verifies a presented key, spends `cost` from its limits and credits, and counts the verdict in its
   * key's usage. `{ metered: false }`: the key authenticates a call to Keyward itself (the management
   * API, an OAuth client), which spends nothing.
   */
  verify(request: VerifyRequest, options?: { readonly metered?: boolean }): Promise<KeyVerdict>;
  /**
   * As `verify` (metered), but the verdict itself when everything it needs is in memory and the meter
   * answers at once: the fast lanes write such an answer without a promise. A bad ask or cost throws
   * synchronously.
   */
  check(request: VerifyRequest): KeyVerdict | Promise<KeyVerdict>;
  /** Spends `cost` for a verdict reached another way (an access token's key) and counts it. */
  settle(verdict: KeyVerdict, cost: number | undefined): KeyVerdict | Promise<KeyVerdict>;
  /** Counts a verdict reached another way without metering it (a management credential). */
  count(verdict: KeyVerdict): void;
  /** Stops following invalidations (flush usage first). */
  close(): void;
}

/**
 * The one assembly of verification: the server (`POST /api/keys/verify`, the management API's key
 * credentials, OAuth), the SDK's embedded verifier and the benchmark all build it here, so they verify
 * and count alike. Only a verdict for an identified key is counted (a key that does not exist has no
 * usage); counts are written by `usage.flush()`, never per verification.
 */
export function createKeyVerification(options: KeyVerificationOptions): KeyVerification {
  const { store, bus, clock } = options;
  const cache = new CachedVerdictSource(storeVerdictSource(store), bus, options.cache);
  const verifier = new KeyVerifier({
    source: cache,
    clock,
    peppers: options.peppers,
    keyFormat: options.keyFormat,
    catalogue: options.catalogue,
    // A remembered token holds its key's record: no more of them than the cache holds records.
    verifiedTokensMax: options.cache.maxEntries,
  });
  const usageOptions = options.usage === false ? null : (options.usage ?? { maxBufferedEntries: 100_000 });
  const usage = usageOptions ? new UsageRecorder(usageOptions.writer ?? transactionalUsageWriter(store), usageOptions) : null;
  /** Counts a verdict in its key's usage, at `nowMs` (now, unless given). */
  const countAt = usage
    ? (verdict: KeyVerdict, nowMs: number) => {
        if (verdict.key) usage.record(verdict.key.orgId, verdict.key.id, verdict.code, nowMs);
      }
    : () => {};
  const count = (verdict: KeyVerdict) => countAt(verdict, clock.now().getTime());
  const spent = usage ? (key: MeteredKey, version: number, period: number, amount: number) => usage.recordSpend(key.id, version, period, amount) : () => {};
  // The meter is only ever given verdicts' keys: whole records (a cached key, given as a plain one).
  const exhausted = options.onCreditsExhausted;
  const onExhausted = (key: MeteredKey) => exhausted?.(key instanceof CachedKey ? key.toRecord() : (key as ApiKeyRecord));
  const meter = options.meter ? options.meter({ spent, onExhausted }) : new LocalKeyMeter({ spent, onExhausted });
  /** Meters a VALID verdict of a metered key (`cost` spent, or refused by a window or the credits), then counts it. */
  const settle = (verdict: KeyVerdict, cost: number | undefined): KeyVerdict | Promise<KeyVerdict> => {
    checkCost(cost);
    return settleAt(verdict, cost, clock.now().getTime());
  };
  /** `settle` at `nowMs` (a verification answered at once meters at the instant it was verified). */
  const settleAt = (verdict: KeyVerdict, cost: number | undefined, nowMs: number): KeyVerdict | Promise<KeyVerdict> => {
    if (!verdict.valid || !isMetered(verdict.key)) {
      countAt(verdict, nowMs);
      return verdict;
    }
    const units = cost ?? 1;
    const reading = meter.spend(verdict.key, units, nowMs);
    if (reading instanceof Promise) {
      return reading.then((r) => {
        const result = withReading(verdict, r, units);
        countAt(result, nowMs);
        return result;
      });
    }
    const result = withReading(verdict, reading, units);
    countAt(result, nowMs);
    return result;
  };
  const check = (request: VerifyRequest): KeyVerdict | Promise<KeyVerdict> => {
    checkCost(request.cost);
    // One reading of the clock for a verification answered from memory: verified and metered at once.
    const nowMs = clock.now().getTime();
    const verdict = verifier.check(request, nowMs);
    // A verification that had to read first is metered when it settles (its cost was checked above).
    return verdict instanceof Promise ? verdict.then((v) => settleAt(v, request.cost, clock.now().getTime())) : settleAt(verdict, request.cost, nowMs);
  };
  return {
    verifier,
    cache,
    usage,
    meter,
    async verify(request, options) {
      if (options?.metered === false) {
        const verdict = await verifier.verify(request);
        count(verdict);
        return verdict;
      }
      return check(request);
    },
    check,
    settle,
    count,
    close: () => cache.close(),
  };
}

/** A cost is a whole number from 0 to COST_MAX (422 `validation_failed` on `cost` otherwise). */
function checkCost(cost: number | undefined): void {
  if (cost !== undefined && !(Number.isInteger(cost) && cost >= 0 && cost <= COST_MAX)) {
    throw new InvalidAskError('cost', `The cost must be a whole number from 0 to ${COST_MAX}.`);
  }
}

/** The verdict as metering left it: VALID with what is left, or refused by a window or the credits. */
function withReading(verdict: Extract<KeyVerdict, { valid: true }>, reading: MeterReading, cost: number): KeyVerdict {
  const key: ApiKeyRecord = verdict.key;
  switch (reading.code) {
    case 'VALID': {
      // Made field by field: a spread of the memoized verdict costs more than the metering itself.
      const { explanation, grants, ownerGrants, subject, projectId, permissions } = verdict;
      return { valid: true, code: 'VALID', explanation, key, grants, ownerGrants, subject, projectId, permissions, metering: reading, unmetered: verdict };
    }
    case 'RATE_LIMITED': {
      const names = reading.exceeded.map((name) => {
        const limit = key.rateLimits.find((l) => l.name === name);
        return limit ? `"${name}" (${describeLimit(limit)})` : `"${name}"`;
      });
      const explanation = `rate limit ${names.join(' and ')} would be exceeded by a cost of ${cost}; retry in ${reading.retryAfterSeconds} s`;
      return { valid: false, code: 'RATE_LIMITED', explanation, key, metering: reading };
    }
    case 'USAGE_EXCEEDED':
      return { valid: false, code: 'USAGE_EXCEEDED', explanation: `${reading.credits} credits left, fewer than this request's cost of ${cost}`, key, metering: reading };
  }
}

