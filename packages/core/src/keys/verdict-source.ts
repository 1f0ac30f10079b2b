import { LRUCache } from 'lru-cache';
import type { UserRoleBinding } from '../bindings/role-binding.js';
import type { OrgId, ProjectId, UserId } from '../ids.js';
import type { Membership } from '../members/membership.js';
import type { CacheBus, Invalidation, Store } from '../ports.js';
import type { Project } from '../projects/project.js';
import type { ApiKeyRecord } from './api-key.js';

/** A personal key's owner as verification needs them: membership, bindings, and whether disabled. */
export interface OwnerState {
  readonly membership: Membership | null;
  readonly bindings: readonly UserRoleBinding[];
  readonly userDisabled: boolean;
}

/** Where the verifier reads its inputs from. */
export interface VerdictSource {
  keyByLookupId(lookupId: string): Promise<ApiKeyRecord | null>;
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
  /**
   * A number that changes whenever an invalidation reaches the cache (undefined while the cache is not
   * trusted): a peek seen current is still current while it is unchanged, short of evictions and age.
   */
  peekGeneration?(): number | undefined;
  peekOwner?(orgId: OrgId, userId: UserId, name?: string): OwnerState | undefined;
  peekProject?(orgId: OrgId, projectId: ProjectId, name?: string): Project | null | undefined;
}

/** Cache names of verdict inputs: one place makes them, so a caller can make one once and keep it. */
export const keyCacheName = {
  lookup: (lookupId: string): string => `k:${lookupId}`,
  digest: (digestHex: string): string => `d:${digestHex}`,
};
export function ownerCacheName(orgId: string, userId: string): string {
  return `o:${orgId}:${userId}`;
}
export function projectCacheName(orgId: string, projectId: string): string {
  return `p:${orgId}:${projectId}`;
}

export function storeVerdictSource(store: Pick<Store, 'keys' | 'members' | 'bindings' | 'users' | 'projects'>): VerdictSource {
  return {
    keyByLookupId: (lookupId) => store.keys.findForVerificationByLookupId(lookupId),
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
  /** Entries held at most (keys, owners and projects together). */
  readonly maxEntries: number;
  /** Unknown ids and digests are remembered this long, so a flood of well-formed unknown keys stays off the database. */
  readonly negativeTtlMs: number;
  /**
   * An upper bound on how long any entry is trusted. Invalidations are what keep entries fresh; this
   * bounds the damage of an invalidation lost between instances. 0 disables it.
   */
  readonly maxAgeMs: number;
}

type Entry =
  | { kind: 'key'; value: ApiKeyRecord | null }
  | { kind: 'owner'; value: OwnerState }
  | { kind: 'project'; value: Project | null };

/**
 * Caches verdict inputs in a bounded LRU and drops what an invalidation touches before the change's
 * request answers. A load that started before an invalidation is never stored after it (the epoch
 * check), and concurrent loads of one entry share one store read unless an invalidation intervenes.
 */
export class CachedVerdictSource implements VerdictSource {
  private readonly cache: LRUCache<string, Entry>;
  private readonly inflight = new Map<string, Promise<Entry>>();
  /** Cache names of keys found by digest (project keys), by key id, so an invalidation by id finds them. */
  private readonly namesByKeyId = new Map<string, Set<string>>();
  private epoch = 0;
  private readonly unsubscribe: () => void;
  hits = 0;
  misses = 0;

  constructor(
    private readonly source: VerdictSource,
    private readonly bus: CacheBus,
    private readonly options: VerdictCacheOptions,
  ) {
    this.cache = new LRUCache<string, Entry>({
      max: options.maxEntries,
      ...(options.maxAgeMs > 0 ? { ttl: options.maxAgeMs, ttlAutopurge: false } : {}),
      dispose: (entry, name) => {
        if (entry.kind === 'key' && entry.value) this.forgetName(entry.value.id, name);
      },
    });
    this.unsubscribe = bus.subscribe((event) => this.invalidate(event));
  }

  get size(): number {
    return this.cache.size;
  }

  keyByLookupId(lookupId: string): Promise<ApiKeyRecord | null> {
    return this.load(keyCacheName.lookup(lookupId), async () => ({ kind: 'key', value: await this.source.keyByLookupId(lookupId) })).then(
      (e) => (e as { value: ApiKeyRecord | null }).value,
    );
  }

  keyByDigest(digestHex: string): Promise<ApiKeyRecord | null> {
    return this.load(keyCacheName.digest(digestHex), async () => ({ kind: 'key', value: await this.source.keyByDigest(digestHex) })).then(
      (e) => (e as { value: ApiKeyRecord | null }).value,
    );
  }

  owner(orgId: OrgId, userId: UserId): Promise<OwnerState> {
    return this.load(ownerCacheName(orgId, userId), async () => ({ kind: 'owner', value: await this.source.owner(orgId, userId) })).then(
      (e) => (e as { value: OwnerState }).value,
    );
  }

  project(orgId: OrgId, projectId: ProjectId): Promise<Project | null> {
    return this.load(projectCacheName(orgId, projectId), async () => ({ kind: 'project', value: await this.source.project(orgId, projectId) })).then(
      (e) => (e as { value: Project | null }).value,
    );
  }

  /** Synchronous lookups for the hot path: undefined when not cached (a hit is counted; a miss is counted by the load that follows). */
  peekKeyByLookupId(lookupId: string): ApiKeyRecord | null | undefined {
    return this.peekKey(keyCacheName.lookup(lookupId));
  }

  peekGeneration(): number | undefined {
    return this.bus.healthy === false ? undefined : this.epoch;
  }

  peekKey(name: string): ApiKeyRecord | null | undefined {
    if (this.bus.healthy === false) return undefined;
    const entry = this.cache.get(name);
    if (!entry) return undefined;
    this.hits++;
    return entry.value as ApiKeyRecord | null;
  }

  peekOwner(orgId: OrgId, userId: UserId, name?: string): OwnerState | undefined {
    if (this.bus.healthy === false) return undefined;
    const entry = this.cache.get(name ?? ownerCacheName(orgId, userId));
    if (!entry) return undefined;
    this.hits++;
    return entry.value as OwnerState;
  }

  peekProject(orgId: OrgId, projectId: ProjectId, name?: string): Project | null | undefined {
    if (this.bus.healthy === false) return undefined;
    const entry = this.cache.get(name ?? projectCacheName(orgId, projectId));
    if (!entry) return undefined;
    this.hits++;
    return entry.value as Project | null;
  }

  invalidate(event: Invalidation): void {
    this.epoch++;
    // Loads in flight may have read the old state: new callers must not join them.
    this.inflight.clear();
    switch (event.type) {
      case 'all':
        this.cache.clear();
        this.namesByKeyId.clear();
        break;
      case 'key': {
        const lookupId = event.keyId.startsWith('key_') ? event.keyId.slice(4) : null;
        if (lookupId) this.cache.delete(keyCacheName.lookup(lookupId));
        for (const name of this.namesByKeyId.get(event.keyId) ?? []) this.cache.delete(name);
        this.namesByKeyId.delete(event.keyId);
        // Unknown project-key digests are cached as misses; a new key has a fresh random digest, so
        // those entries cannot hide it.
        break;
      }
      case 'member':
        this.cache.delete(ownerCacheName(event.orgId, event.userId));
        break;
      case 'org':
        for (const [name, entry] of this.cache.entries()) {
          if (name.includes(`:${event.orgId}:`) || (entry.kind === 'key' && entry.value?.orgId === event.orgId)) this.cache.delete(name);
        }
        break;
    }
  }

  clear(): void {
    this.epoch++;
    this.inflight.clear();
    this.cache.clear();
    this.namesByKeyId.clear();
  }

  close(): void {
    this.unsubscribe();
  }

  private async load(name: string, read: () => Promise<Entry>): Promise<Entry> {
    // Without a healthy bus, invalidations from other instances may be missing: read through.
    if (this.bus.healthy === false) {
      this.misses++;
      return read();
    }
    const cached = this.cache.get(name);
    if (cached) {
      this.hits++;
      return cached;
    }
    const pending = this.inflight.get(name);
    if (pending) return pending;
    this.misses++;
    const startEpoch = this.epoch;
    const promise = read().then(
      (entry) => {
        if (this.inflight.get(name) === promise) this.inflight.delete(name);
        if (this.epoch === startEpoch) this.store(name, entry);
        return entry;
      },
      (err: unknown) => {
        if (this.inflight.get(name) === promise) this.inflight.delete(name);
        throw err;
      },
    );
    this.inflight.set(name, promise);
    return promise;
  }

  private store(name: string, entry: Entry): void {
    const isMiss = entry.value === null;
    this.cache.set(name, entry, isMiss ? { ttl: this.options.negativeTtlMs } : {});
    // Keys found by lookup id are invalidated by their id's name; only digest names need the index.
    if (entry.kind === 'key' && entry.value && name.startsWith('d:')) {
      let names = this.namesByKeyId.get(entry.value.id);
      if (!names) this.namesByKeyId.set(entry.value.id, (names = new Set()));
      names.add(name);
    }
  }

  private forgetName(keyId: string, name: string): void {
    const names = this.namesByKeyId.get(keyId);
    if (!names) return;
    names.delete(name);
    if (names.size === 0) this.namesByKeyId.delete(keyId);
  }
}
