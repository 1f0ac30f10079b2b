import { SingleFlightCache } from '../cache/single-flight-cache.js';
import type { UserRoleBinding } from '../bindings/role-binding.js';
import type { KeyId, OrgId, ProjectId, UserId } from '../ids.js';
import type { Membership } from '../members/membership.js';
import type { CacheBus, Invalidation, Store } from '../ports.js';
import type { Project } from '../projects/project.js';
import type { ApiKeyRecord } from './api-key.js';
import { CachedKey, CachedKeyFactory } from './cached-key.js';

/** A personal key's owner as verification needs them: membership, bindings, and whether disabled. */
export interface OwnerState {
  readonly membership: Membership | null;
  readonly bindings: readonly UserRoleBinding[];
  readonly userDisabled: boolean;
}

/** Where the verifier reads its inputs from. */
export interface VerdictSource {
  keyByLookupId(lookupId: string): Promise<ApiKeyRecord | null>;
  /**
   * As `keyByLookupId`, synchronously where the source can (a cache that holds the key, or a store that
   * reads at once); undefined when it cannot, for the caller to use `keyByLookupId`.
   */
  keyByLookupIdNow?(lookupId: string): ApiKeyRecord | null | undefined;
  keyByDigest(digestHex: string): Promise<ApiKeyRecord | null>;
  owner(orgId: OrgId, userId: UserId): Promise<OwnerState>;
  project(orgId: OrgId, projectId: ProjectId): Promise<Project | null>;
  /**
   * Synchronous cache lookups, when the source has a cache: undefined means "not cached". `name` is
   * the entry's cache name when the caller made it already (`ownerCacheName`, `projectCacheName`).
   */
  peekKeyByLookupId?(lookupId: string): ApiKeyRecord | null | undefined;
  /** A key entry by its cache name (`keyCacheName`): what the cache holds for it now. */
  peekKey?(name: string): ApiKeyRecord | null | undefined;
  /** As `peekKey`, without marking the entry recently used (the caller marks it with `peekKey` now and then). */
  peekKeyQuietly?(name: string): ApiKeyRecord | null | undefined;
  /**
   * A number that changes whenever an invalidation reaches the cache (undefined while the cache is not
   * trusted): a peek seen current is still current while it is unchanged, short of evictions and age.
   */
  peekGeneration?(): number | undefined;
  peekOwner?(orgId: OrgId, userId: UserId, name?: string): OwnerState | undefined;
  peekProject?(orgId: OrgId, projectId: ProjectId, name?: string): Project | null | undefined;
}

/**
 * Cache names of verdict inputs: one place makes them, so a caller can make one once and keep it. A
 * key found by its lookup id is named by its id (`key_<lookupId>`), so the cached key's id and its
 * name are one string.
 */
export const keyCacheName = {
  lookup: (lookupId: string): string => `key_${lookupId}`,
  digest: (digestHex: string): string => `d:${digestHex}`,
};
export function ownerCacheName(orgId: string, userId: string): string {
  return `o:${orgId}:${userId}`;
}
export function projectCacheName(orgId: string, projectId: string): string {
  return `p:${orgId}:${projectId}`;
}

export function storeVerdictSource(store: Pick<Store, 'keys' | 'members' | 'bindings' | 'users' | 'projects'>): VerdictSource {
  const { keys } = store;
  return {
    keyByLookupId: (lookupId) => keys.findForVerificationByLookupId(lookupId),
    ...(keys.findForVerificationByLookupIdNow ? { keyByLookupIdNow: (lookupId: string) => keys.findForVerificationByLookupIdNow!(lookupId) } : {}),
    keyByDigest: (digest) => store.keys.findForVerificationByDigest(digest),
    async owner(orgId, userId) {
      const [membership, bindings, user] = await Promise.all([
        store.members.find(orgId, userId),
        store.bindings.listForUser(orgId, userId),
        store.users.findById(userId),
      ]);
      return { membership, bindings, userDisabled: !user || user.disabledAt !== null };
    },
    project: (orgId, projectId) => store.projects.findById(orgId, projectId),
  };
}

export interface VerdictCacheOptions {
  /** Keys held at most; their owners and projects are held apart (at most OTHER_ENTRIES of them). */
  readonly maxEntries: number;
  /** Unknown ids and digests are remembered this long, so a flood of well-formed unknown keys stays off the database. */
  readonly negativeTtlMs: number;
  /**
   * An upper bound on how long any entry is trusted. Invalidations are what keep entries fresh; this
   * bounds the damage of an invalidation lost between instances. 0 disables it.
   */
  readonly maxAgeMs: number;
}

/**
 * "Not found" entries held at most (unknown keys, owners and projects), apart from the others: a
 * client repeating a few unknown keys stays off the database, and a flood of new ones cannot evict
 * the keys in use.
 */
export const NOT_FOUND_ENTRIES = 10_000;

/**
 * Key owners and projects held at most, apart from the keys: `maxEntries` counts keys alone, so a
 * cache sized for a million keys holds a million keys, whatever owners and projects they have.
 */
export const OTHER_ENTRIES = 100_000;

/** What the cache holds for a key that does not exist (one object for all of them). */
const MISSING_KEY = Object.freeze({ kind: 'missing-key' as const, value: null });

/** A key is held as its `CachedKey` itself (no wrapper: a million keys, a million fewer objects). */
type Entry = CachedKey | typeof MISSING_KEY | { kind: 'owner'; value: OwnerState } | { kind: 'project'; value: Project | null };

/** The key an entry holds: the record, null for a key that does not exist, undefined for an entry of another kind. */
function keyOf(entry: Entry | undefined): CachedKey | null | undefined {
  if (entry instanceof CachedKey) return entry;
  return entry === MISSING_KEY ? null : undefined;
}

/**
 * Caches verdict inputs in a bounded LRU (a `SingleFlightCache`), keys in their lean form
 * (`CachedKey`, sharing an `AccessProfile` with every key of the same access), and drops what an invalidation
 * touches before the change's request answers. A load that started before an invalidation is never
 * stored after it, and concurrent loads of one entry share one store read unless an invalidation
 * intervenes. While the bus is not healthy (invalidations may be missing) it reads through.
 */
export class CachedVerdictSource implements VerdictSource {
  private readonly cache: SingleFlightCache<string, Entry>;
  private readonly keys = new CachedKeyFactory();
  /** Cache names of keys found by digest (project keys), by key id, so an invalidation by id finds them. */
  private readonly namesByKeyId = new Map<string, Set<string>>();
  private readonly unsubscribe: () => void;
  private readonly loadKeyByLookupId: (name: string, lookupId: string) => Promise<Entry>;
  private readonly loadKeyByLookupIdNow: ((name: string, lookupId: string) => Entry | undefined) | null;
  private readonly loadKeyByDigest: (name: string, digestHex: string) => Promise<Entry>;
  private readonly loadOwner: (name: string, ids: readonly [OrgId, UserId]) => Promise<Entry>;
  private readonly loadProject: (name: string, ids: readonly [OrgId, ProjectId]) => Promise<Entry>;

  constructor(
    source: VerdictSource,
    private readonly bus: CacheBus,
    options: VerdictCacheOptions,
  ) {
    this.cache = new SingleFlightCache<string, Entry>({
      maxEntries: options.maxEntries,
      ttlMs: options.maxAgeMs > 0 ? options.maxAgeMs : undefined,
      ttlFor: (entry) => (entry === MISSING_KEY || (!(entry instanceof CachedKey) && entry.value === null) ? options.negativeTtlMs : undefined),
      // "Not found" apart and few: a flood of made-up keys evicts only other made-up keys.
      briefMaxEntries: Math.min(options.maxEntries, NOT_FOUND_ENTRIES),
      side: { picks: (entry) => !(entry instanceof CachedKey), maxEntries: Math.min(options.maxEntries, OTHER_ENTRIES) },
      trusted: () => bus.healthy !== false,
      onStore: (entry, name) => {
        // Keys found by lookup id are invalidated by their id's name; only digest names need the index.
        if (entry instanceof CachedKey && name.startsWith('d:')) {
          let names = this.namesByKeyId.get(entry.id);
          if (!names) this.namesByKeyId.set(entry.id, (names = new Set()));
          names.add(name);
        }
      },
      onDrop: (entry, name) => {
        if (entry instanceof CachedKey && name.startsWith('d:')) this.forgetName(entry.id, name);
      },
    });
    // The name of a key found by lookup id is its id: the cached key keeps that string as its id.
    this.loadKeyByLookupId = async (name, lookupId) => this.cached(await source.keyByLookupId(lookupId), name as KeyId);
    const readNow = source.keyByLookupIdNow?.bind(source);
    this.loadKeyByLookupIdNow = readNow
      ? (name, lookupId) => {
          const record = readNow(lookupId);
          return record === undefined ? undefined : this.cached(record, name as KeyId);
        }
      : null;
    this.loadKeyByDigest = async (_name, digestHex) => this.cached(await source.keyByDigest(digestHex));
    this.loadOwner = async (_name, [orgId, userId]) => ({ kind: 'owner', value: await source.owner(orgId, userId) });
    this.loadProject = async (_name, [orgId, projectId]) => ({ kind: 'project', value: await source.project(orgId, projectId) });
    this.unsubscribe = bus.subscribe((event) => this.invalidate(event));
  }

  /** Entries of every kind: keys, owners, projects and "not found". */
  get size(): number {
    return this.cache.size;
  }

  /** Keys held (what `maxEntries` bounds). */
  get keyCount(): number {
    return this.cache.mainSize;
  }

  /** Answers from memory. */
  get hits(): number {
    return this.cache.hits;
  }

  /** Store reads (loads, and reads through while the bus is not healthy). */
  get misses(): number {
    return this.cache.misses;
  }

  async keyByLookupId(lookupId: string): Promise<CachedKey | null> {
    return keyOf(await this.cache.get(keyCacheName.lookup(lookupId), this.loadKeyByLookupId, lookupId)) ?? null;
  }

  /** The key now, from the cache or read at once from a source that can (stored as a load would be); else undefined. */
  keyByLookupIdNow(lookupId: string): CachedKey | null | undefined {
    if (!this.loadKeyByLookupIdNow) return undefined;
    return keyOf(this.cache.getNow(keyCacheName.lookup(lookupId), this.loadKeyByLookupIdNow, lookupId));
  }

  async keyByDigest(digestHex: string): Promise<CachedKey | null> {
    return keyOf(await this.cache.get(keyCacheName.digest(digestHex), this.loadKeyByDigest, digestHex)) ?? null;
  }

  async owner(orgId: OrgId, userId: UserId): Promise<OwnerState> {
    return ((await this.cache.get(ownerCacheName(orgId, userId), this.loadOwner, [orgId, userId] as const)) as { value: OwnerState }).value;
  }

  async project(orgId: OrgId, projectId: ProjectId): Promise<Project | null> {
    return ((await this.cache.get(projectCacheName(orgId, projectId), this.loadProject, [orgId, projectId] as const)) as { value: Project | null }).value;
  }

  peekGeneration(): number | undefined {
    return this.bus.healthy === false ? undefined : this.cache.generation;
  }

  /** Synchronous lookups for the hot path: undefined when not cached (or the bus is not healthy). */
  peekKeyByLookupId(lookupId: string): CachedKey | null | undefined {
    return this.peekKey(keyCacheName.lookup(lookupId));
  }

  peekKey(name: string): CachedKey | null | undefined {
    return keyOf(this.cache.peek(name));
  }

  peekKeyQuietly(name: string): CachedKey | null | undefined {
    return keyOf(this.cache.peekQuietly(name));
  }

  /** Distinct access profiles the cached keys share (see `AccessProfile`). */
  get profileCount(): number {
    return this.keys.profileCount;
  }

  peekOwner(orgId: OrgId, userId: UserId, name?: string): OwnerState | undefined {
    return (this.cache.peek(name ?? ownerCacheName(orgId, userId)) as { value: OwnerState } | undefined)?.value;
  }

  peekProject(orgId: OrgId, projectId: ProjectId, name?: string): Project | null | undefined {
    return (this.cache.peek(name ?? projectCacheName(orgId, projectId)) as { value: Project | null } | undefined)?.value;
  }

  /** Drops what the event touches; loads in flight (which may have read the old state) are never stored. */
  invalidate(event: Invalidation): void {
    switch (event.type) {
      case 'all':
        this.cache.invalidate();
        this.namesByKeyId.clear();
        break;
      case 'key': {
        // A key found by lookup id is cached under its id.
        const names = [...(this.namesByKeyId.get(event.keyId) ?? [])];
        if (event.keyId.startsWith('key_')) names.push(event.keyId);
        // Unknown project-key digests are cached as misses; a new key has a fresh random digest, so
        // those entries cannot hide it.
        this.cache.invalidateMany(names);
        this.namesByKeyId.delete(event.keyId);
        break;
      }
      case 'member':
        this.cache.invalidate(ownerCacheName(event.orgId, event.userId));
        break;
      case 'org':
        this.cache.invalidateWhere((entry, name) => name.includes(`:${event.orgId}:`) || (entry instanceof CachedKey && entry.orgId === event.orgId));
        break;
      default:
        // Nothing cached here depends on it; loads in flight are abandoned all the same, as for any event.
        this.cache.invalidateMany([]);
    }
  }

  clear(): void {
    this.cache.invalidate();
    this.namesByKeyId.clear();
  }

  close(): void {
    this.unsubscribe();
  }

  private cached(record: ApiKeyRecord | null, name?: KeyId): Entry {
    return record ? this.keys.make(record, name) : MISSING_KEY;
  }

  private forgetName(keyId: string, name: string): void {
    const names = this.namesByKeyId.get(keyId);
    if (!names) return;
    names.delete(name);
    if (names.size === 0) this.namesByKeyId.delete(keyId);
  }
}
