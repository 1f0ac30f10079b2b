import { SingleFlightCache } from './single-flight-cache.js';
import type { InvalidationEvent, Verdict } from './verdict.js';

/**
 * A verdict as the cache holds it, with the instant it stops being trusted, decided when it arrived
 * (the stream's trust, the key's `expiresAt`, a token's `exp`): one already past is not stored.
 *
 * @example
 * const cached: CachedVerdict = { verdict: { valid: false, code: 'NOT_FOUND' }, expiresAtMs: Date.now() + 5_000 };
 */
export interface CachedVerdict {
  readonly verdict: Verdict;
  /** On the cache's clock (`Date.now` unless told otherwise). */
  readonly expiresAtMs: number;
}

/** The options of a `VerdictCache`. */
export interface VerdictCacheOptions {
  /** Verdicts held at most. */
  readonly maxEntries: number;
  /** Whether the invalidation stream can be relied on right now; while not, the cache reads through. */
  readonly trusted?: (() => boolean) | undefined;
  /** The clock of lifetimes (default `Date.now`). */
  readonly now?: (() => number) | undefined;
}

/**
 * A bounded single-flight cache of verdicts, indexed by key id and organization so invalidations
 * find them. Names are digests of the presented key and the ask (the caller makes them): a plaintext
 * key is never stored. Every invalidation, even one that finds nothing stored, abandons the
 * verifications in flight, so a verdict fetched before it is never stored after it.
 *
 * @example
 * const cache = new VerdictCache({ maxEntries: 10_000 });
 * const cached = await cache.verdicts.get(digest, (_name, request) => ask(request).then((verdict) => ({ verdict, expiresAtMs: Date.now() + 30_000 })), request);
 * cache.invalidate({ type: 'key', orgId: 'org_1', keyId: 'key_1' });
 */
export class VerdictCache {
  readonly verdicts: SingleFlightCache<string, CachedVerdict>;
  private readonly namesByKeyId = new Map<string, Set<string>>();
  /** By organization, each name with its verdict: a member's invalidation tells personal keys apart. */
  private readonly namesByOrgId = new Map<string, Map<string, Verdict>>();

  constructor(options: VerdictCacheOptions) {
    const now = options.now ?? Date.now;
    this.verdicts = new SingleFlightCache({
      maxEntries: options.maxEntries,
      // Read on the clock the cache then adds it to: the entry expires at expiresAtMs exactly.
      ttlFor: (cached) => cached.expiresAtMs - now(),
      trusted: options.trusted,
      now,
      onStore: (cached, name) => this.file(name, cached.verdict),
      onDrop: (cached, name) => this.unfile(name, cached.verdict),
    });
  }

  get size(): number {
    return this.verdicts.size;
  }

  /** Drops what the event touched, conservatively: whatever could have changed goes. */
  invalidate(event: InvalidationEvent): void {
    switch (event.type) {
      case 'all':
        this.verdicts.invalidate();
        return;
      case 'key':
        this.verdicts.invalidateMany([...(this.namesByKeyId.get(event.keyId) ?? [])]);
        return;
      case 'member': {
        // A member's rights cap their personal keys (the ceiling model). A denied verdict may not name
        // its owner, so every personal key verdict of the organization without a different owner goes.
        const doomed: string[] = [];
        for (const [name, verdict] of this.namesByOrgId.get(event.orgId) ?? []) {
          if (verdict.keyType === 'personal' && (!verdict.ownerUserId || verdict.ownerUserId === event.userId)) doomed.push(name);
        }
        this.verdicts.invalidateMany(doomed);
        return;
      }
      case 'org':
        this.verdicts.invalidateMany([...(this.namesByOrgId.get(event.orgId)?.keys() ?? [])]);
        return;
    }
  }

  /** Drops everything (the stream went down or came back: events may have been missed). */
  clear(): void {
    this.verdicts.invalidate();
  }

  private file(name: string, verdict: Verdict): void {
    if (verdict.keyId) {
      let names = this.namesByKeyId.get(verdict.keyId);
      if (!names) this.namesByKeyId.set(verdict.keyId, (names = new Set()));
      names.add(name);
    }
    if (verdict.organizationId) {
      let names = this.namesByOrgId.get(verdict.organizationId);
      if (!names) this.namesByOrgId.set(verdict.organizationId, (names = new Map()));
      names.set(name, verdict);
    }
  }

  private unfile(name: string, verdict: Verdict): void {
    if (verdict.keyId) {
      const names = this.namesByKeyId.get(verdict.keyId);
      names?.delete(name);
      if (names?.size === 0) this.namesByKeyId.delete(verdict.keyId);
    }
    if (verdict.organizationId) {
      const names = this.namesByOrgId.get(verdict.organizationId);
      names?.delete(name);
      if (names?.size === 0) this.namesByOrgId.delete(verdict.organizationId);
    }
  }
}
