import { describe, expect, it } from 'vitest';
import type { KeyId, OrgId } from '../ids.js';
import { createLocalCacheBus } from '../local-cache-bus.js';
import type { Store } from '../ports.js';
import { TokenDenyList } from './token-deny-list.js';

const orgId = 'org_test' as OrgId;
const keyA = 'key_a' as KeyId;
const keyB = 'key_b' as KeyId;

/** A revoked-token table whose every read waits until the test answers it. */
function manualStore() {
  const reads: { jti: string; answer(revoked: boolean): void; fail(err: unknown): void }[] = [];
  const revokedTokens = {
    isRevoked: (jti: string) =>
      new Promise<boolean>((resolve, reject) => {
        reads.push({ jti, answer: resolve, fail: reject });
      }),
    insert: () => Promise.reject(new Error('not used')),
    purgeExpired: () => Promise.reject(new Error('not used')),
  };
  const store = { revokedTokens, transaction: () => Promise.reject(new Error('not used')) } as unknown as Pick<Store, 'revokedTokens' | 'transaction'>;
  return { store, reads };
}

function setup() {
  const { store, reads } = manualStore();
  const bus = Object.assign(createLocalCacheBus(), { healthy: true });
  const denyList = new TokenDenyList({ store, bus }, { maxEntries: 100, maxAgeMs: 0 });
  return { denyList, bus, reads };
}

describe('TokenDenyList', () => {
  it('reads the store once for concurrent checks of one token, then answers from memory', async () => {
    const { denyList, reads } = setup();
    const first = denyList.isRevoked('jti-1', keyA);
    const second = denyList.isRevoked('jti-1', keyA);
    expect(reads).toHaveLength(1);
    reads[0]!.answer(false);
    expect(await first).toBe(false);
    expect(await second).toBe(false);
    expect(denyList.isRevoked('jti-1', keyA)).toBe(false);
    expect(reads).toHaveLength(1);
  });

  it("drops a key's answers, and only that key's, on the key's invalidation", async () => {
    const { denyList, bus, reads } = setup();
    const a = denyList.isRevoked('jti-a', keyA);
    const b = denyList.isRevoked('jti-b', keyB);
    reads[0]!.answer(false);
    reads[1]!.answer(false);
    await Promise.all([a, b]);
    bus.emit({ type: 'key', orgId, keyId: keyA });
    expect(denyList.isRevoked('jti-b', keyB)).toBe(false);
    const again = denyList.isRevoked('jti-a', keyA);
    expect(again).toBeInstanceOf(Promise);
    reads[2]!.answer(true);
    expect(await again).toBe(true);
    expect(denyList.isRevoked('jti-a', keyA)).toBe(true);
  });

  it('does not remember a check that read the store before its key was revoked, though nothing of that key was cached', async () => {
    const { denyList, bus, reads } = setup();
    const before = denyList.isRevoked('jti-1', keyA);
    bus.emit({ type: 'key', orgId, keyId: keyA });
    const after = denyList.isRevoked('jti-1', keyA);
    expect(reads).toHaveLength(2);
    reads[0]!.answer(false);
    expect(await before).toBe(false);
    reads[1]!.answer(true);
    expect(await after).toBe(true);
    expect(denyList.isRevoked('jti-1', keyA)).toBe(true);
  });

  it('reads the store on every check while the bus is unhealthy', async () => {
    const { denyList, bus, reads } = setup();
    const cached = denyList.isRevoked('jti-1', keyA);
    reads[0]!.answer(false);
    await cached;
    bus.healthy = false;
    const first = denyList.isRevoked('jti-1', keyA);
    const second = denyList.isRevoked('jti-1', keyA);
    expect(reads).toHaveLength(3);
    reads[1]!.answer(true);
    reads[2]!.answer(true);
    expect(await first).toBe(true);
    expect(await second).toBe(true);
  });

  it('passes a failed read to its callers and remembers nothing', async () => {
    const { denyList, reads } = setup();
    const failing = denyList.isRevoked('jti-1', keyA);
    const failure = new Error('database unavailable');
    reads[0]!.fail(failure);
    await expect(failing).rejects.toBe(failure);
    const retry = denyList.isRevoked('jti-1', keyA);
    expect(reads).toHaveLength(2);
    reads[1]!.answer(false);
    expect(await retry).toBe(false);
  });
});
