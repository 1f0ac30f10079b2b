import { SingleFlightCache, type SingleFlightLoader } from './single-flight-cache.js';
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

/**
 * Whether a verdict counted against its key's rate limits or credits: it carries their state, or is
 * their refusal. Such a verdict is only true of the request that was sent: the next request of the
 * key must be counted too, so it is never stored nor handed to another caller.
 *
 * @example
 * isMetered({ valid: true, code: 'VALID', credits: { remaining: 9 } }); // true
 */
export function isMetered(verdict: Verdict): boolean {
  return verdict.rateLimits !== undefined || verdict.credits !== undefined || verdict.code === 'RATE_LIMITED' || verdict.code === 'USAGE_EXCEEDED';
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
 * A metered verdict (`isMetered`: the key has rate limits or credits) is never stored, and through
 * `verdict` every request reaches the verifier: a caller who joined another's verification of such a
 * key asks again for itself, and a name known to be metered is asked directly, without joining.
 *
 * @example
 * const cache = new VerdictCache({ maxEntries: 10_000 });
 * const verdict = await cache.verdict(digest, (_name, request) => ask(request).then((verdict) => ({ verdict, expiresAtMs: Date.now() + 30_000 })), request);
 * cache.invalidate({ type: 'key', orgId: 'org_1', keyId: 'key_1' });
 */
export class VerdictCache {
  readonly verdicts: SingleFlightCache<string, CachedVerdict>;
  private readonly namesByKeyId = new Map<string, Set<string>>();
  /** By organization, each name with its verdict: a member's invalidation tells personal keys apart. */
  private readonly namesByOrgId = new Map<string, Map<string, Verdict>>();
  /** Names whose last verdict was metered, oldest first: asked directly until one comes back unmetered. */
  private readonly meteredNames = new Set<string>();
  private readonly maxMeteredNames: number;

  constructor(options: VerdictCacheOptions) {
    const now = options.now ?? Date.now;
    this.maxMeteredNames = options.maxEntries;
    this.verdicts = new SingleFlightCache({
      maxEntries: options.maxEntries,
      // Read on the clock the cache then adds it to: the entry expires at expiresAtMs exactly.
      // A metered verdict gets no lifetime at all: it is not stored.
      ttlFor: (cached) => (isMetered(cached.verdict) ? 0 : cached.expiresAtMs - now()),
      trusted: options.trusted,
      now,
      onStore: (cached, name) => this.file(name, cached.verdict),
      onDrop: (cached, name) => this.unfile(name, cached.verdict),
    });
  }

  get size(): number {
    return this.verdicts.size;
  }

  /**
   * The verdict for this name: stored, or from a verification in flight, or from a new one (`load`
   * with `arg`). A metered verdict goes to the caller whose request was sent, and to no one else:
   * the others who joined that verification load again, each with its own `arg`.
   */
  verdict<A>(name: string, load: SingleFlightLoader<string, CachedVerdict, A>, arg: A): Verdict | Promise<Verdict> {
    if (this.meteredNames.has(name)) return load(name, arg).then((cached) => this.noteMetering(name, cached.verdict));
    // `misses` counts exactly the loads started (and reads through an untrusted cache), not joins.
    const missesBefore = this.verdicts.misses;
    const found = this.verdicts.get(name, load, arg);
    if (!(found instanceof Promise)) return found.verdict;
    const isOwnRequest = this.verdicts.misses !== missesBefore;
    return found.then((cached) => {
      if (isOwnRequest || !isMetered(cached.verdict)) return this.noteMetering(name, cached.verdict);
      return load(name, arg).then((own) => this.noteMetering(name, own.verdict));
    });
  }

  /** Drops what the event touched, conservatively: whatever could have changed goes. */
  invalidate(event: InvalidationEvent): void {
    switch (event.type) {
      case 'all':
        this.clear();
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
    this.meteredNames.clear();
  }

  /** Remembers whether the name's key is metered now (a key's limits can be added or removed). */
  private noteMetering(name: string, verdict: Verdict): Verdict {
    if (!isMetered(verdict)) {
      this.meteredNames.delete(name);
      return verdict;
    }
    this.meteredNames.delete(name);
    this.meteredNames.add(name);
    if (this.meteredNames.size > this.maxMeteredNames) this.meteredNames.delete(this.meteredNames.values().next().value as string);
    return verdict;
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
