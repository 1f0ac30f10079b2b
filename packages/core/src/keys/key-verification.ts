import type { PermissionCatalogue } from '../permissions/catalogue.js';
import type { CacheBus, Clock, Store, UsageWriter } from '../ports.js';
import { transactionalUsageWriter } from '../usage/transactional-usage-writer.js';
import { UsageRecorder, type UsageRecorderOptions } from '../usage/usage-recorder.js';
import type { PepperRing } from './key-digest.js';
import type { KeyFormat } from './key-format.js';
import { CachedVerdictSource, storeVerdictSource, type VerdictCacheOptions } from './verdict-source.js';
import { KeyVerifier, type KeyVerdict, type VerifyRequest } from './verify-key.js';

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
}

/** The verifier as every caller needs it: cache, verifier and usage counts, assembled once. */
export interface KeyVerification {
  readonly verifier: KeyVerifier;
  readonly cache: CachedVerdictSource;
  readonly usage: UsageRecorder | null;
  /** Verifies a presented key and counts the verdict in its key's usage. */
  verify(request: VerifyRequest): Promise<KeyVerdict>;
  /** Counts a verdict reached another way (an access token's key, a management credential). */
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
  const count = usage
    ? (verdict: KeyVerdict) => {
        if (verdict.key) usage.record(verdict.key.orgId, verdict.key.id, verdict.code, clock.now());
      }
    : () => {};
  return {
    verifier,
    cache,
    usage,
    async verify(request) {
      const verdict = await verifier.verify(request);
      count(verdict);
      return verdict;
    },
    count,
    close: () => cache.close(),
  };
}
