import { describe, expect, it } from 'vitest';
import { VerdictCache, isMetered, type CachedVerdict } from './verdict-cache.js';
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

  describe('keys with rate limits or credits (issue 14)', () => {
    const window = { name: 'requests', limit: 10, windowSeconds: 60, remaining: 9, resetAt: '2026-12-07T00:01:00.000Z' };
    const metered: Verdict[] = [
      { ...personal('key_1', 'org_1'), rateLimits: [window] },
      { ...personal('key_1', 'org_1'), credits: { remaining: 5 } },
      { valid: false, code: 'RATE_LIMITED', keyId: 'key_1', organizationId: 'org_1', rateLimits: [{ ...window, remaining: 0 }], retryAfterSeconds: 3 },
      { valid: false, code: 'USAGE_EXCEEDED', keyId: 'key_1', organizationId: 'org_1', credits: { remaining: 0 } },
    ];

    /** A verifier that answers each request with the verdict the test queued for it, counting requests by argument. */
    function queuedAsk(answers: Verdict[]) {
      const asked: number[] = [];
      const load = (_name: string, request: number): Promise<CachedVerdict> => {
        asked.push(request);
        return Promise.resolve({ verdict: answers.shift() ?? personal('key_1', 'org_1'), expiresAtMs: Number.MAX_SAFE_INTEGER });
      };
      return { asked, load };
    }

    it('calls a verdict metered when it carries rate limits or credits, or refuses for them', () => {
      expect(metered.map(isMetered)).toEqual([true, true, true, true]);
      expect(isMetered(personal('key_1', 'org_1'))).toBe(false);
      expect(isMetered({ valid: false, code: 'INSUFFICIENT_PERMISSIONS', keyId: 'key_1' })).toBe(false);
    });

    it.each(metered.map((verdict) => [verdict.code, verdict] as const))('never stores a metered %s verdict: the next request asks again', async (_code, verdict) => {
      const { cache } = setup();
      const { asked, load } = queuedAsk([verdict, verdict]);
      expect(await cache.verdict('n', load, 1)).toBe(verdict);
      expect(cache.size).toBe(0);
      expect(await cache.verdict('n', load, 2)).toBe(verdict);
      expect(asked).toEqual([1, 2]);
    });

    it('gives a metered verdict only to the caller whose request was sent; callers who joined it ask again with their own argument', async () => {
      const { cache } = setup();
      const { asks, ask } = manualAsk();
      const load = (name: string, cost: number) => {
        const pending = ask(name);
        return pending.then((cached) => ({ ...cached, verdict: { ...cached.verdict, credits: { remaining: 100 - cost } } }));
      };
      const first = cache.verdict('n', load, 1);
      const second = cache.verdict('n', load, 7);
      const third = cache.verdict('n', load, 3);
      expect(asks).toHaveLength(1); // joined, as for any key, until the answer says it is metered
      asks[0]!.answer({ verdict: personal('key_1', 'org_1'), expiresAtMs: Number.MAX_SAFE_INTEGER });
      expect((await first).credits).toEqual({ remaining: 99 });
      await new Promise((resolve) => setImmediate(resolve));
      expect(asks).toHaveLength(3);
      for (const pending of asks.slice(1)) pending.answer({ verdict: personal('key_1', 'org_1'), expiresAtMs: Number.MAX_SAFE_INTEGER });
      expect([(await second).credits, (await third).credits]).toEqual([{ remaining: 93 }, { remaining: 97 }]);
      expect(cache.size).toBe(0);
    });

    it('asks directly for a name known to be metered, without joining, until its key comes back unmetered; then it caches again', async () => {
      const { cache } = setup();
      const { asks, ask } = manualAsk();
      const load = (name: string) => ask(name);
      const answer = (index: number, verdict: Verdict) => asks[index]!.answer({ verdict, expiresAtMs: Number.MAX_SAFE_INTEGER });
      const plain = personal('key_1', 'org_1');
      const first = cache.verdict('n', load, 1);
      answer(0, metered[1]!);
      await first;
      // Known metered: concurrent requests each reach the verifier at once, none waits for another's.
      const concurrent = [cache.verdict('n', load, 2), cache.verdict('n', load, 3)];
      expect(asks).toHaveLength(3);
      answer(1, metered[1]!);
      answer(2, metered[1]!);
      await Promise.all(concurrent);
      // The key's credits were removed: the first unmetered answer is not stored, the next one is.
      const removed = cache.verdict('n', load, 4);
      answer(3, plain);
      expect(await removed).toBe(plain);
      expect(cache.size).toBe(0);
      const again = cache.verdict('n', load, 5);
      answer(4, plain);
      expect(await again).toBe(plain);
      expect(cache.verdict('n', load, 6)).toBe(plain);
      expect(asks).toHaveLength(5);
    });
  });
});
