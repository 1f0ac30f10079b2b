import {
  InvalidAskError,
  allPermissions,
  PepperRing,
  createKeyFormat,
  createKeyVerification,
  createLocalCacheBus,
  createLogFollowingBus,
  defaultCatalogue,
  parseCatalogue,
  parsePepperSetting,
  systemClock,
  type CacheBus,
  type Invalidation,
  type KeyVerdict,
  type OrgId,
} from '@keyward/core';
import { openStore, usageWriterFor } from '@keyward/store';
import { isSafeText } from '@keyward/wire';
import { VerificationError } from '../errors.js';
import { sharedEventLoopTurn } from '../event-loop-turn.js';
import { openInvalidationStream, type InvalidationStream } from '../invalidation-stream.js';
import type { Verifier } from '../verdict.js';

/** How to verify keys in process, straight from Keyward's database. */
export interface EmbeddedVerifierOptions {
  /** Keyward's database: the same `KEYWARD_DATABASE_URL` (`sqlite:<path>` or `postgres://…`). */
  readonly databaseUrl: string;
  /** Keyward's `KEYWARD_PEPPER`, every version of it (`v2:<hex>,v1:<hex>`). */
  readonly pepper: string;
  /** Keyward's `KEYWARD_KEY_PREFIX` (default `kw_`). */
  readonly keyPrefix?: string | undefined;
  /** Keyward's permission catalogue, when `KEYWARD_PERMISSION_CATALOGUE` replaces the default one (the parsed JSON). */
  readonly catalogue?: unknown;
  /** Only keys of this organization exist for this verifier (like a verifier credential scoped to it). */
  readonly organizationId?: string | undefined;
  /**
   * Keyward's invalidation stream, with a verifier credential: revocations and edits made through
   * Keyward reach this process's cache a few milliseconds sooner. Without it the cache still follows
   * Keyward's invalidation log in the database (woken by LISTEN/NOTIFY or SQLite's `data_version`,
   * and read at least every 200 ms), so a change reaches it within a second either way.
   */
  readonly invalidations?: { readonly url: string; readonly verifierToken: string } | undefined;
  readonly cache?:
    | {
        /**
         * Keys held at most (default 1,000,000); their owners and projects are held apart (at most
         * 100,000). A cached key costs about 0.4 KB of heap (docs/sdk.md): the default holds a million
         * keys in about 400 MB.
         */
        readonly maxEntries?: number | undefined;
        /**
         * An upper bound on how long an entry is trusted (default 10 minutes); freshness comes from the
         * invalidation log, this only bounds the unexpected (a row changed in the database by hand). It
         * is long enough for a full default cache: a million keys are read once, not again every
         * minute. 0 turns the cache off: every verification reads the database.
         */
        readonly maxAgeMs?: number | undefined;
      }
    | undefined;
  /** Count verifications into Keyward's usage (and `lastUsedAt`), written in batches; default on, every 5 s. */
  readonly usage?: false | { readonly flushIntervalMs?: number | undefined } | undefined;
  /** Stream and usage-flush problems, for your logs. */
  readonly onError?: ((err: Error) => void) | undefined;
}

/** Counters of an embedded verifier, for metrics and tests. */
export interface EmbeddedVerifierStats {
  /** Entries the cache holds now: keys, owners and projects. */
  readonly cached: number;
  /** Lookups answered by the cache. */
  readonly hits: number;
  /** Reads of the database the cache made (or passed through while it was not trusted). */
  readonly misses: number;
}

/** An in-process verifier; see `createEmbeddedVerifier`. */
export interface EmbeddedVerifier extends Verifier {
  /**
   * Counters: entries cached, cache hits and database reads.
   *
   * @example
   * const { cached } = verifier.stats();
   */
  stats(): EmbeddedVerifierStats;
  /** The permissions of the catalogue this verifier was given (the default one unless `catalogue`). */
  permissions(): Promise<readonly string[]>;
  /** Whether the invalidation stream is up (false without one). */
  readonly streamConnected: boolean;
  /** Resolves `true` once the invalidation stream is up; `false` after `timeoutMs` (default 5 s) or without one. */
  ready(timeoutMs?: number): Promise<boolean>;
  /** Writes the buffered usage counts now. */
  flushUsage(): Promise<void>;
  /** Flushes usage, closes the stream and the database connection. */
  close(): Promise<void>;
}

/** Keys held by default (issue 13): a million, their owners and projects apart. */
const DEFAULT_CACHE_ENTRIES = 1_000_000;
/**
 * The longest an entry is trusted by default: ten minutes. Changes made through Keyward arrive through
 * the invalidation log within a second whatever this is; it bounds only what the log cannot carry. A
 * minute (the default before) made a full cache of keys used less often than that a read per
 * verification: a million keys take longer than a minute to read once.
 */
const DEFAULT_MAX_AGE_MS = 600_000;

/** How long verifications may run back to back without an event-loop turn (the log is read every 200 ms). */
const YIELD_EVERY_MS = 50;
/**
 * How far behind the log's reader may be before a verification waits for it to catch up: twice its
 * polling interval, well within the 900 ms after which the cache is no longer trusted.
 */
const CATCH_UP_AFTER_MS = 400;

/** Throws the server's 422 for text it refuses (PostgreSQL cannot even be asked about a NUL). */
function unsafeText(field: string, value: string | undefined): void {
  if (value !== undefined && !isSafeText(value)) throw new VerificationError('invalid_request', `${field} must not contain control characters or unpaired surrogates.`, null);
}

/** The cache's bus: the invalidation log's, trusted only while caching is on and the log is being read. */
function cacheBus(followed: CacheBus, caching: boolean): CacheBus {
  return {
    get healthy() {
      return caching && followed.healthy !== false;
    },
    publish: (event) => followed.publish(event),
    subscribe: (listener) => followed.subscribe(listener),
    close: () => followed.close(),
  };
}


/**
 * Verifies keys inside your own process, reading Keyward's database directly: Keyward's own
 * verifier (format and checksum, constant-time secret check, state, IP allowlist, the ceiling model)
 * over a bounded in-memory cache, with no network hop. For operators who run Keyward next to their
 * API and can give it the database URL and the pepper.
 *
 * Freshness: the cache follows Keyward's invalidation log in the same database (every revoke, edit,
 * roll, role change and member removal is written there in the change's own transaction), woken at
 * once by LISTEN/NOTIFY (PostgreSQL) or `PRAGMA data_version` (SQLite) and read at least every 200 ms.
 * The cache is trusted only while a read of the log succeeded within the last 900 ms, so a change is
 * honoured here within a second whatever is lost; while the database cannot be read, verification
 * fails (`unavailable`) rather than trusting the cache. With `invalidations`, Keyward's stream brings
 * the news a little sooner still. Access tokens (JWTs) are not verified here: use
 * `createAccessTokenVerifier`.
 *
 * @example
 * import { createEmbeddedVerifier } from '@keyward/sdk/embedded';
 *
 * const verifier = await createEmbeddedVerifier({
 *   databaseUrl: process.env.KEYWARD_DATABASE_URL!,
 *   pepper: process.env.KEYWARD_PEPPER!,
 *   invalidations: { url: 'http://127.0.0.1:4000', verifierToken: process.env.KEYWARD_VERIFIER_TOKEN! },
 * });
 * const verdict = await verifier.verify({ key: presentedKey, permission: 'traces:read', projectId: 'proj_123' });
 */
export async function createEmbeddedVerifier(options: EmbeddedVerifierOptions): Promise<EmbeddedVerifier> {
  const store = await openStore(options.databaseUrl);
  const report = (err: unknown) => options.onError?.(err instanceof Error ? err : new Error(String(err)));
  // Stream events (when configured) arrive on `messages`; the log's reader brings everything else.
  const messages = createLocalCacheBus();
  const followed = createLogFollowingBus(store, messages, { onError: report });
  try {
    await followed.start();
  } catch (err) {
    await followed.close();
    await store.close();
    throw err;
  }
  const clock = systemClock;
  const maxAgeMs = options.cache?.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  // An unhealthy bus makes the cache read through: 0 turns caching off.
  const caching = maxAgeMs > 0;
  const bus = cacheBus(followed, caching);
  const catalogue = options.catalogue === undefined ? defaultCatalogue : parseCatalogue(options.catalogue);
  const verification = createKeyVerification({
    store,
    bus,
    clock,
    peppers: new PepperRing(parsePepperSetting(options.pepper)),
    keyFormat: createKeyFormat(options.keyPrefix ?? 'kw_'),
    catalogue,
    cache: { maxEntries: options.cache?.maxEntries ?? DEFAULT_CACHE_ENTRIES, negativeTtlMs: Math.min(5_000, maxAgeMs > 0 ? maxAgeMs : 5_000), maxAgeMs },
    // On a SQLite file, usage is written by a worker thread: a commit's fsync never holds your event loop.
    usage: options.usage === false ? false : { maxBufferedEntries: 100_000, writer: usageWriterFor(store) },
  });
  const { verifier, cache, usage } = verification;
  const orgId = (options.organizationId ?? null) as OrgId | null;
  const flushTimer = usage ? setInterval(() => usage.flush().catch(report), (options.usage || undefined)?.flushIntervalMs ?? 5_000) : null;
  flushTimer?.unref();

  let stream: InvalidationStream | null = null;
  if (options.invalidations) {
    stream = openInvalidationStream({
      url: options.invalidations.url,
      verifierToken: options.invalidations.verifierToken,
      // The log carries every change anyway: the stream only brings it sooner.
      onEvent: (event) => messages.emit(event as Invalidation),
      onError: report,
    });
  }

  const nextTurn = sharedEventLoopTurn();
  // A caller that verifies in a loop that never waits for I/O would starve the log's reader (its
  // timers never run) and the cache would stop being trusted: give the event loop a turn now and then.
  let turnAt = Date.now();

  return {
    async verify(request) {
      // Apply any invalidation already received before trusting the cache.
      if (stream?.connected || Date.now() - turnAt >= YIELD_EVERY_MS) {
        await nextTurn();
        turnAt = Date.now();
        // A pause of this process (a long garbage collection, a busy event loop) can hold the log's
        // reader back past its trust window, and every verification would then read the database and
        // cache nothing: the first one after the pause waits for one read of the log instead. (Any
        // pause that long is also a pause since the last turn, so this is asked only here.) Not while
        // the log cannot be read: the verification would wait for nothing before failing.
        const { follower } = followed;
        if (caching && !follower.lastReadFailed && follower.lagMs >= CATCH_UP_AFTER_MS) await follower.read();
      }
      let verdict: KeyVerdict;
      // The server's text rule (a 422 there).
      unsafeText('projectId', request.projectId);
      unsafeText('resource', request.resource);
      unsafeText('ip', request.ip);
      try {
        const { key, projectId, permission, action, resource, ip, cost } = request;
        verdict = await verification.verify({ token: key, projectId, permission, action, resource, ip, orgId, cost });
      } catch (err) {
        if (err instanceof InvalidAskError) throw new VerificationError('invalid_request', err.message, null, { cause: err });
        throw new VerificationError('unavailable', "Keyward's database could not be read.", null, { cause: err });
      }
      return verifier.answer(verdict);
    },
    get streamConnected() {
      return stream?.connected ?? false;
    },
    stats() {
      return { cached: cache.size, hits: cache.hits, misses: cache.misses };
    },
    async permissions() {
      return allPermissions(catalogue);
    },
    ready(timeoutMs) {
      return stream ? stream.waitUntilConnected(timeoutMs) : Promise.resolve(false);
    },
    async flushUsage() {
      await usage?.flush({ final: true });
    },
    async close() {
      stream?.close();
      if (flushTimer) clearInterval(flushTimer);
      await usage?.flush({ final: true }).catch(report);
      await usage?.close();
      cache.close();
      await followed.close();
      await store.close();
    },
  };
}
