import { SingleFlightCache } from '../cache/single-flight-cache.js';
import type { KeyId, OrgId } from '../ids.js';
import type { CacheBus, Invalidation, Store } from '../ports.js';

/** A cached answer, filed under the token's key so that the key's invalidation finds it. */
interface Answer {
  readonly revoked: boolean;
  readonly keyId: KeyId;
}

const revokedOf = (answer: Answer): boolean => answer.revoked;

/**
 * The deny list of revoked access tokens (by `jti`), read through a cache so that a token used on
 * every request costs no database read. A revocation writes the store and then publishes a `key`
 * invalidation for the token's key, which drops that key's cached answers on every instance before
 * the revoking request returns. While the bus is unhealthy, every check reads the store.
 */
export class TokenDenyList {
  private readonly cache: SingleFlightCache<string, Answer>;
  private readonly jtisByKey = new Map<KeyId, Set<string>>();
  private readonly load = (jti: string, keyId: KeyId): Promise<Answer> =>
    this.deps.store.revokedTokens.isRevoked(jti).then((revoked) => ({ revoked, keyId }));
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: { store: Pick<Store, 'revokedTokens' | 'transaction'>; bus: CacheBus },
    options: { maxEntries: number; maxAgeMs: number } = { maxEntries: 100_000, maxAgeMs: 0 },
  ) {
    this.cache = new SingleFlightCache({
      maxEntries: options.maxEntries,
      ttlMs: options.maxAgeMs,
      trusted: () => deps.bus.healthy !== false,
      onStore: (answer, jti) => this.file(jti, answer.keyId),
      onDrop: (answer, jti) => this.forget(answer.keyId, jti),
    });
    this.unsubscribe = deps.bus.subscribe((event) => this.invalidate(event));
  }

  /** Whether the token was revoked. `keyId` files the answer under the key, for invalidation. */
  isRevoked(jti: string, keyId: KeyId): boolean | Promise<boolean> {
    const answer = this.cache.get(jti, this.load, keyId);
    return answer instanceof Promise ? answer.then(revokedOf) : answer.revoked;
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
    if (event.type === 'key') {
      // Also when no answer of this key is stored yet: a check in flight may have read the store before the revocation.
      this.cache.invalidateMany([...(this.jtisByKey.get(event.keyId) ?? [])]);
      this.jtisByKey.delete(event.keyId);
    } else if (event.type === 'all' || event.type === 'org') {
      this.cache.invalidate();
      this.jtisByKey.clear();
    } else {
      // Nothing stored depends on a member, but as before, no check in flight is stored across an invalidation.
      this.cache.invalidateMany([]);
    }
  }

  close(): void {
    this.unsubscribe();
  }

  private file(jti: string, keyId: KeyId): void {
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
