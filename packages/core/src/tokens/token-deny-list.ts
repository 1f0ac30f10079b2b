import { LRUCache } from 'lru-cache';
import type { KeyId, OrgId } from '../ids.js';
import type { CacheBus, Invalidation, Store } from '../ports.js';

/**
 * The deny list of revoked access tokens (by `jti`), read through a cache so that a token used on
 * every request costs no database read. A revocation writes the store and then publishes a `key`
 * invalidation for the token's key, which drops that key's cached answers on every instance before
 * the revoking request returns. While the bus is unhealthy, every check reads the store.
 */
export class TokenDenyList {
  private readonly cache: LRUCache<string, { revoked: boolean; keyId: KeyId }>;
  private readonly jtisByKey = new Map<KeyId, Set<string>>();
  private readonly inflight = new Map<string, Promise<boolean>>();
  private epoch = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: { store: Pick<Store, 'revokedTokens' | 'transaction'>; bus: CacheBus },
    options: { maxEntries: number; maxAgeMs: number } = { maxEntries: 100_000, maxAgeMs: 0 },
  ) {
    this.cache = new LRUCache({
      max: options.maxEntries,
      ...(options.maxAgeMs > 0 ? { ttl: options.maxAgeMs } : {}),
      dispose: (value, jti) => this.forget(value.keyId, jti),
    });
    this.unsubscribe = deps.bus.subscribe((event) => this.invalidate(event));
  }

  /** Whether the token was revoked. `keyId` files the answer under the key, for invalidation. */
  isRevoked(jti: string, keyId: KeyId): boolean | Promise<boolean> {
    if (this.deps.bus.healthy === false) return this.deps.store.revokedTokens.isRevoked(jti);
    const cached = this.cache.get(jti);
    if (cached) return cached.revoked;
    const pending = this.inflight.get(jti);
    if (pending) return pending;
    const startEpoch = this.epoch;
    const promise = this.deps.store.revokedTokens.isRevoked(jti).then(
      (revoked) => {
        if (this.inflight.get(jti) === promise) this.inflight.delete(jti);
        if (this.epoch === startEpoch) this.remember(jti, keyId, revoked);
        return revoked;
      },
      (err: unknown) => {
        if (this.inflight.get(jti) === promise) this.inflight.delete(jti);
        throw err;
      },
    );
    this.inflight.set(jti, promise);
    return promise;
  }

  /** Records a revocation in the store (kept until the token would have expired) and tells every cache. */
  async revoke(entry: { jti: string; orgId: OrgId; keyId: KeyId; expiresAt: Date }): Promise<void> {
    const event = { type: 'key', orgId: entry.orgId, keyId: entry.keyId } as const;
    await this.deps.store.transaction(async (tx) => {
      await tx.revokedTokens.insert(entry);
      await tx.invalidations.append(event, new Date());
    });
    await this.deps.bus.publish({ type: 'key', orgId: entry.orgId, keyId: entry.keyId });
  }

  invalidate(event: Invalidation): void {
    this.epoch++;
    this.inflight.clear();
    if (event.type === 'key') {
      for (const jti of [...(this.jtisByKey.get(event.keyId) ?? [])]) this.cache.delete(jti);
      this.jtisByKey.delete(event.keyId);
    } else if (event.type === 'all' || event.type === 'org') {
      this.cache.clear();
      this.jtisByKey.clear();
    }
  }

  close(): void {
    this.unsubscribe();
  }

  private remember(jti: string, keyId: KeyId, revoked: boolean): void {
    this.cache.set(jti, { revoked, keyId });
    let jtis = this.jtisByKey.get(keyId);
    if (!jtis) this.jtisByKey.set(keyId, (jtis = new Set()));
    jtis.add(jti);
  }

  private forget(keyId: KeyId, jti: string): void {
    const jtis = this.jtisByKey.get(keyId);
    if (!jtis) return;
    jtis.delete(jti);
    if (jtis.size === 0) this.jtisByKey.delete(keyId);
  }
}
