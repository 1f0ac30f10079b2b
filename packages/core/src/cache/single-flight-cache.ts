import { LRUCache } from 'lru-cache';

/** Any value but null and undefined: names and values are never absent (lru-cache's undefined means "none"). */
type Present = NonNullable<unknown>;

/** Reads one entry on a miss. `arg` is what the caller passed to `get`, so the loader can be made once rather than per call. */
export type SingleFlightLoader<K, V, A> = (name: K, arg: A) => Promise<V>;

export interface SingleFlightCacheOptions<K extends Present, V extends Present> {
  /** Entries held at most; the least recently used goes first. */
  readonly maxEntries: number;
  /** How long an entry is trusted; absent or 0: until an invalidation or eviction. */
  readonly ttlMs?: number | undefined;
  /**
   * A lifetime for this value in particular (a shorter one for "not found", say): milliseconds,
   * `undefined` for `ttlMs`, or 0 or less to not store it at all.
   */
  readonly ttlFor?: ((value: V) => number | undefined) | undefined;
  /**
   * Values `ttlFor` gives a lifetime of their own are kept apart, in an LRU of at most this many
   * (default `maxEntries`): a flood of them ("not found" for a new made-up name each time) evicts only
   * its own kind, never the entries that matter, and the main LRU tracks no lifetimes unless `ttlMs`
   * asks it to (each lookup then reads less memory).
   */
  readonly briefMaxEntries?: number | undefined;
  /**
   * Values this picks (among those without a lifetime of their own) are kept apart too, in an LRU of
   * `maxEntries` of their own: another kind of entry (a key's owner, a project) never takes the room
   * of the main kind (keys), so `maxEntries` counts main entries alone.
   */
  readonly side?: { readonly picks: (value: V) => boolean; readonly maxEntries: number } | undefined;
  /**
   * Whether invalidations can be relied on right now (e.g. `() => bus.healthy !== false`). While it
   * answers false, every `get` reads through, nothing is stored and `peek` finds nothing: an entry
   * kept while invalidations may be lost could outlive a revocation.
   */
  readonly trusted?: (() => boolean) | undefined;
  /** Called once a loaded value is stored, to index it (by key id, say). */
  readonly onStore?: ((value: V, name: K) => void) | undefined;
  /** Called when a stored value leaves (invalidated, evicted, expired or replaced), to unindex it. */
  readonly onDrop?: ((value: V, name: K) => void) | undefined;
  /** The clock of `ttlMs` in milliseconds (default `performance.now`); tests move their own. */
  readonly now?: (() => number) | undefined;
}

/**
 * A bounded read-through cache whose concurrent misses of one name share one load, and that never
 * stores what an invalidation may have made stale. Each invalidation, of one name or of all, bumps
 * an epoch: a load started before it is not stored when it settles (it may have read the state the
 * invalidation announced the end of), and callers arriving after it start a new load rather than
 * join that one. Every invalidation abandons every load in flight, not only the named one: the
 * cache cannot know what a load read, and an event may touch names no one has stored yet.
 *
 * A failed load is not stored; its error goes to the callers that joined it, and the next caller
 * loads again. Hits cost no allocation: pass a loader made once and its input as `arg`.
 *
 * @example
 * const keySets = new SingleFlightCache<OrgId, OrgKeySet>({ maxEntries: 10_000, ttlMs: 5000 });
 * const set = await keySets.get(orgId, readKeySet);     // a second caller meanwhile shares the read
 * bus.subscribe((event) => event.type === 'org' && keySets.invalidate(event.orgId));
 */
export class SingleFlightCache<K extends Present, V extends Present> {
  private readonly entries: LRUCache<K, V>;
  /** Values with a lifetime of their own (`ttlFor`), apart from `entries`; null without `ttlFor`. */
  private readonly brief: LRUCache<K, V> | null;
  /** Values `side` picks, apart from `entries`; null without `side`. */
  private readonly sideEntries: LRUCache<K, V> | null;
  private readonly sidePicks: ((value: V) => boolean) | null;
  /** Every LRU above, for what goes through all of them (invalidations, size). */
  private readonly lrus: LRUCache<K, V>[];
  private readonly inflight = new Map<K, Promise<V>>();
  private readonly ttlFor: ((value: V) => number | undefined) | undefined;
  private readonly trusted: (() => boolean) | undefined;
  private readonly onStore: ((value: V, name: K) => void) | undefined;
  private epoch = 0;
  private hitCount = 0;
  private missCount = 0;

  constructor(options: SingleFlightCacheOptions<K, V>) {
    this.ttlFor = options.ttlFor;
    this.trusted = options.trusted;
    this.onStore = options.onStore;
    const onDrop = options.onDrop;
    const now = options.now;
    const lru = (max: number, ttlMs: number | undefined) =>
      new LRUCache<K, V>({
        max,
        ...(ttlMs !== undefined && ttlMs > 0 ? { ttl: ttlMs } : {}),
        // lru-cache reads its clock at most once a millisecond of real time, and takes an entry stored at
        // 0 for one without a lifetime: a test clock is read every time, and never reads 0.
        ...(now ? { perf: { now: () => now() + 1 }, ttlResolution: 0 } : {}),
        ...(onDrop ? { dispose: (value: V, name: K) => onDrop(value, name) } : {}),
      });
    this.entries = lru(options.maxEntries, options.ttlMs);
    // Every brief value is stored with a lifetime of its own.
    this.brief = options.ttlFor ? lru(options.briefMaxEntries ?? options.maxEntries, undefined) : null;
    this.sideEntries = options.side ? lru(options.side.maxEntries, options.ttlMs) : null;
    this.sidePicks = options.side?.picks ?? null;
    this.lrus = [this.entries, this.sideEntries, this.brief].filter((x): x is LRUCache<K, V> => x !== null);
  }

  /** Stored entries (expired ones may count until they are next read or evicted). */
  get size(): number {
    let size = 0;
    for (const lru of this.lrus) size += lru.size;
    return size;
  }

  /** Entries of the main kind (neither `side` nor brief ones): what `maxEntries` bounds. */
  get mainSize(): number {
    return this.entries.size;
  }

  /** Answers from memory (`get`s and `peek`s that found a trusted entry). */
  get hits(): number {
    return this.hitCount;
  }

  /** Loads started and reads made through an untrusted cache; callers who joined a load are not counted. */
  get misses(): number {
    return this.missCount;
  }

  /**
   * A number that changes with every invalidation: a value peeked while it had one value was current
   * then, and nothing has invalidated it since while it still has that value (evictions and lifetimes
   * aside).
   */
  get generation(): number {
    return this.epoch;
  }

  /** Whether the cache may be used now (`trusted`, when given). */
  get isTrusted(): boolean {
    return this.trusted === undefined || this.trusted();
  }

  /** The stored value, or undefined (none, expired, or the cache is not trusted now). Never loads. */
  peek(name: K): V | undefined {
    if (this.trusted !== undefined && !this.trusted()) return undefined;
    const value = this.lookup(name);
    if (value !== undefined) this.hitCount++;
    return value;
  }

  /**
   * As `peek`, but without marking the entry recently used (nor counting a hit): for a caller that
   * looks an entry up often and marks it itself now and then (`peek`).
   */
  peekQuietly(name: K): V | undefined {
    if (this.trusted !== undefined && !this.trusted()) return undefined;
    return this.entries.peek(name) ?? this.sideEntries?.peek(name) ?? this.brief?.peek(name);
  }

  /**
   * The stored value when there is one (synchronously), else the load in flight for this name, else a
   * new load. Only a load started since the last invalidation is joined, and only such a load is stored.
   */
  get(name: K, load: SingleFlightLoader<K, V, undefined>): V | Promise<V>;
  get<A>(name: K, load: SingleFlightLoader<K, V, A>, arg: A): V | Promise<V>;
  get<A>(name: K, load: SingleFlightLoader<K, V, A>, arg?: A): V | Promise<V> {
    if (this.trusted !== undefined && !this.trusted()) {
      this.missCount++;
      return load(name, arg as A);
    }
    const value = this.lookup(name);
    if (value !== undefined) {
      this.hitCount++;
      return value;
    }
    return this.inflight.get(name) ?? this.start(name, load, arg as A);
  }

  /**
   * As `get`, for a source that can read at once: the stored value, else `loadNow`'s (stored as a
   * load's would be; nothing can invalidate between its read and its storing), else undefined when it
   * cannot read now or a load of this name is in flight (the caller then uses `get`).
   */
  getNow<A>(name: K, loadNow: (name: K, arg: A) => V | undefined, arg: A): V | undefined {
    const trusted = this.trusted === undefined || this.trusted();
    if (trusted) {
      const value = this.lookup(name);
      if (value !== undefined) {
        this.hitCount++;
        return value;
      }
      if (this.inflight.has(name)) return undefined;
    }
    const value = loadNow(name, arg);
    if (value === undefined) return undefined;
    this.missCount++;
    if (trusted) this.store(name, value);
    return value;
  }

  /** Drops one name, or every entry without one; either way, loads in flight are abandoned. */
  invalidate(name?: K): void {
    this.abandonLoads();
    if (name === undefined) for (const lru of this.lrus) lru.clear();
    else this.delete(name);
  }

  /** Drops these names (perhaps none: loads in flight are abandoned all the same). */
  invalidateMany(names: Iterable<K>): void {
    this.abandonLoads();
    for (const name of names) this.delete(name);
  }

  /** Drops every entry the test picks (a scan of the whole cache); loads in flight are abandoned. */
  invalidateWhere(test: (value: V, name: K) => boolean): void {
    this.abandonLoads();
    for (const lru of this.lrus) {
      const doomed: K[] = [];
      for (const [name, value] of lru.entries()) if (test(value, name)) doomed.push(name);
      for (const name of doomed) lru.delete(name);
    }
  }

  /** The stored value in whichever LRU holds it (marked recently used there). */
  private lookup(name: K): V | undefined {
    return this.entries.get(name) ?? this.sideEntries?.get(name) ?? this.brief?.get(name);
  }

  private delete(name: K): void {
    for (const lru of this.lrus) lru.delete(name);
  }

  private abandonLoads(): void {
    this.epoch++;
    this.inflight.clear();
  }

  private start<A>(name: K, load: SingleFlightLoader<K, V, A>, arg: A): Promise<V> {
    this.missCount++;
    const startEpoch = this.epoch;
    const promise = load(name, arg).then(
      (value) => {
        if (this.inflight.get(name) === promise) this.inflight.delete(name);
        if (this.epoch === startEpoch) this.store(name, value);
        return value;
      },
      (err: unknown) => {
        if (this.inflight.get(name) === promise) this.inflight.delete(name);
        throw err;
      },
    );
    this.inflight.set(name, promise);
    return promise;
  }

  private store(name: K, value: V): void {
    // Trust lost during the load: invalidations may have been missed meanwhile.
    if (this.trusted !== undefined && !this.trusted()) return;
    const ttlMs = this.ttlFor?.(value);
    if (ttlMs !== undefined && ttlMs <= 0) return;
    // One value per name, in whichever LRU its kind goes to.
    this.delete(name);
    if (ttlMs !== undefined) this.brief!.set(name, value, { ttl: ttlMs });
    else if (this.sidePicks?.(value)) this.sideEntries!.set(name, value);
    else this.entries.set(name, value);
    this.onStore?.(value, name);
  }
}
