import { describe, expect, it } from 'vitest';
import { VerdictCache, type CachedVerdict } from './verdict-cache.js';
import type { Verdict } from './verdict.js';

/** Verifications that wait until the test answers them. */
function manualAsk() {
  const asks: { name: string; answer(cached: CachedVerdict): void }[] = [];
  const ask = (name: string): Promise<CachedVerdict> =>
    new Promise((resolve) => {
      asks.push({ name, answer: resolve });
    });
  return { asks, ask };
}

const personal = (keyId: string, orgId: string, ownerUserId?: string): Verdict => ({
  valid: true,
  code: 'VALID',
  keyId,
  organizationId: orgId,
  keyType: 'personal',
  ...(ownerUserId ? { ownerUserId } : {}),
});

function setup() {
  let now = 1_000;
  const cache = new VerdictCache({ maxEntries: 100, now: () => now });
  const store = (name: string, verdict: Verdict, lifetimeMs = 30_000) =>
    cache.verdicts.get(name, () => Promise.resolve({ verdict, expiresAtMs: now + lifetimeMs }));
  return { cache, store, advance: (ms: number) => (now += ms), now: () => now };
}

describe('VerdictCache', () => {
  it("drops a key's verdicts, and only that key's, on the key's invalidation", async () => {
    const { cache, store } = setup();
    await store('a1', personal('key_a', 'org_1'));
    await store('a2', personal('key_a', 'org_1'));
    await store('b', personal('key_b', 'org_1'));
    cache.invalidate({ type: 'key', orgId: 'org_1', keyId: 'key_a' });
    expect(cache.verdicts.peek('a1')).toBeUndefined();
    expect(cache.verdicts.peek('a2')).toBeUndefined();
    expect(cache.verdicts.peek('b')?.verdict.keyId).toBe('key_b');
  });

  it("drops the member's personal-key verdicts and those naming no owner, keeping other owners' and other organizations'", async () => {
    const { cache, store } = setup();
    await store('mine', personal('key_1', 'org_1', 'usr_1'));
    await store('unnamed', personal('key_2', 'org_1'));
    await store('theirs', personal('key_3', 'org_1', 'usr_2'));
    await store('project', { valid: true, code: 'VALID', keyId: 'key_4', organizationId: 'org_1', keyType: 'project' });
    await store('elsewhere', personal('key_5', 'org_2', 'usr_1'));
    cache.invalidate({ type: 'member', orgId: 'org_1', userId: 'usr_1' });
    expect(['mine', 'unnamed', 'theirs', 'project', 'elsewhere'].map((name) => cache.verdicts.peek(name) !== undefined)).toEqual([false, false, true, true, true]);
  });

  it("drops an organization's verdicts on its invalidation, and everything on 'all'", async () => {
    const { cache, store } = setup();
    await store('one', personal('key_1', 'org_1'));
    await store('two', personal('key_2', 'org_2'));
    cache.invalidate({ type: 'org', orgId: 'org_1' });
    expect(cache.verdicts.peek('one')).toBeUndefined();
    expect(cache.verdicts.peek('two')).toBeDefined();
    cache.invalidate({ type: 'all' });
    expect(cache.size).toBe(0);
  });

  it('never stores a verification in flight across an invalidation, even one of a key with nothing cached', async () => {
    const { cache } = setup();
    const { asks, ask } = manualAsk();
    const before = cache.verdicts.get('n', ask);
    cache.invalidate({ type: 'key', orgId: 'org_1', keyId: 'key_1' });
    asks[0]!.answer({ verdict: personal('key_1', 'org_1'), expiresAtMs: Number.MAX_SAFE_INTEGER });
    await before;
    expect(cache.verdicts.peek('n')).toBeUndefined();
  });

  it('keeps a verdict until its expiresAtMs exactly, and does not store one already past', async () => {
    const { cache, store, advance } = setup();
    await store('n', personal('key_1', 'org_1'), 5_000);
    advance(4_999);
    expect(cache.verdicts.peek('n')).toBeDefined();
    advance(1);
    expect(cache.verdicts.peek('n')).toBeUndefined();
    await store('past', personal('key_2', 'org_1'), 0);
    expect(cache.size).toBe(0);
  });

  it('forgets the index of an expired or evicted verdict, so a later invalidation finds nothing stale', async () => {
    let now = 1_000;
    const cache = new VerdictCache({ maxEntries: 1, now: () => now });
    await cache.verdicts.get('first', () => Promise.resolve({ verdict: personal('key_1', 'org_1'), expiresAtMs: now + 10_000 }));
    await cache.verdicts.get('second', () => Promise.resolve({ verdict: personal('key_2', 'org_1'), expiresAtMs: now + 10_000 }));
    expect(cache.size).toBe(1);
    now += 20_000;
    expect(cache.verdicts.peek('second')).toBeUndefined();
    // Re-storing under the evicted name must not be dropped by the evicted verdict's key.
    await cache.verdicts.get('first', () => Promise.resolve({ verdict: personal('key_3', 'org_2'), expiresAtMs: now + 10_000 }));
    cache.invalidate({ type: 'key', orgId: 'org_1', keyId: 'key_1' });
    expect(cache.verdicts.peek('first')?.verdict.keyId).toBe('key_3');
  });
});
