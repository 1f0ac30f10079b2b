import type { InvalidationEvent, Verdict } from './verdict.js';

interface Entry {
  readonly verdict: Verdict;
  readonly expiresAtMs: number;
}

/**
 * A bounded LRU of verdicts, indexed by key id and organization so invalidations find them. Names
 * are digests of the presented key and the ask (the caller makes them): a plaintext key is never
 * stored. `epoch` counts invalidations, so a verdict fetched before one is never stored after it.
 *
 * @example
 * const cache = new VerdictCache(10_000);
 * cache.set('digest', { valid: true, code: 'VALID', keyId: 'key_1', organizationId: 'org_1' }, Date.now() + 30_000);
 * cache.invalidate({ type: 'key', orgId: 'org_1', keyId: 'key_1' });
 */
export class VerdictCache {
  private readonly entries = new Map<string, Entry>();
  private readonly namesByKeyId = new Map<string, Set<string>>();
  private readonly namesByOrgId = new Map<string, Set<string>>();
  /** Incremented by every invalidation and clear. */
  epoch = 0;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached verdict, if any and still fresh; a hit becomes the most recently used entry. */
  get(name: string, nowMs: number): Verdict | undefined {
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= nowMs) {
      this.delete(name);
      return undefined;
    }
    this.entries.delete(name);
    this.entries.set(name, entry);
    return entry.verdict;
  }

  set(name: string, verdict: Verdict, expiresAtMs: number): void {
    if (this.maxEntries <= 0) return;
    if (this.entries.has(name)) this.delete(name);
    this.entries.set(name, { verdict, expiresAtMs });
    if (verdict.keyId) addTo(this.namesByKeyId, verdict.keyId, name);
    if (verdict.organizationId) addTo(this.namesByOrgId, verdict.organizationId, name);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.delete(oldest);
    }
  }

  /** Drops what the event touched, conservatively: whatever could have changed goes. */
  invalidate(event: InvalidationEvent): void {
    this.epoch++;
    switch (event.type) {
      case 'all':
        this.dropAll();
        return;
      case 'key':
        for (const name of [...(this.namesByKeyId.get(event.keyId) ?? [])]) this.delete(name);
        return;
      case 'member':
        // A member's rights cap their personal keys (the ceiling model). A denied verdict may not name
        // its owner, so every personal key verdict of the organization without a different owner goes.
        for (const name of [...(this.namesByOrgId.get(event.orgId) ?? [])]) {
          const verdict = this.entries.get(name)?.verdict;
          if (verdict?.keyType === 'personal' && (!verdict.ownerUserId || verdict.ownerUserId === event.userId)) this.delete(name);
        }
        return;
      case 'org':
        for (const name of [...(this.namesByOrgId.get(event.orgId) ?? [])]) this.delete(name);
        return;
    }
  }

  /** Drops everything (the stream went down or came back: events may have been missed). */
  clear(): void {
    this.epoch++;
    this.dropAll();
  }

  private dropAll(): void {
    this.entries.clear();
    this.namesByKeyId.clear();
    this.namesByOrgId.clear();
  }

  private delete(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    this.entries.delete(name);
    if (entry.verdict.keyId) removeFrom(this.namesByKeyId, entry.verdict.keyId, name);
    if (entry.verdict.organizationId) removeFrom(this.namesByOrgId, entry.verdict.organizationId, name);
  }
}

function addTo(index: Map<string, Set<string>>, id: string, name: string): void {
  let names = index.get(id);
  if (!names) index.set(id, (names = new Set()));
  names.add(name);
}

function removeFrom(index: Map<string, Set<string>>, id: string, name: string): void {
  const names = index.get(id);
  if (!names) return;
  names.delete(name);
  if (names.size === 0) index.delete(id);
}
