import { describe, expect, it } from 'vitest';
import { SingleFlightCache, type SingleFlightCacheOptions } from './single-flight-cache.js';

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A loader whose every call waits until the test settles it by hand. */
function manualLoader<V>() {
  const calls: { name: string; arg: unknown; load: Deferred<V> }[] = [];
  const load = (name: string, arg?: unknown): Promise<V> => {
    const call = { name, arg, load: deferred<V>() };
    calls.push(call);
    return call.load.promise;
  };
  return { calls, load };
}

function cache(options: Partial<SingleFlightCacheOptions<string, { v: number }>> = {}) {
  return new SingleFlightCache<string, { v: number }>({ maxEntries: 100, ...options });
}

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SingleFlightCache', () => {
  it('answers a stored entry synchronously, without loading, and counts the hit', async () => {
    const c = cache();
    const loader = manualLoader<{ v: number }>();
    const first = c.get('a', loader.load);
    loader.calls[0]!.load.resolve({ v: 1 });
    expect(await first).toEqual({ v: 1 });

    expect(c.get('a', loader.load)).toEqual({ v: 1 });
    expect(c.peek('a')).toEqual({ v: 1 });
    expect(loader.calls).toHaveLength(1);
    expect(c.hits).toBe(2);
    expect(c.misses).toBe(1);
    expect(c.size).toBe(1);
  });

  it('loads a missing name once, passing the name and the argument to the loader', async () => {
    const c = cache();
    const loader = manualLoader<{ v: number }>();
    expect(c.peek('a')).toBeUndefined();
    const pending = c.get('a', loader.load, 'context');
    expect(pending).toBeInstanceOf(Promise);
    expect(loader.calls.map((call) => [call.name, call.arg])).toEqual([['a', 'context']]);
    expect(c.size).toBe(0);
    loader.calls[0]!.load.resolve({ v: 7 });
    expect(await pending).toEqual({ v: 7 });
    expect(c.size).toBe(1);
    expect(c.misses).toBe(1);
    expect(c.hits).toBe(0);
  });

  it('shares one load among concurrent callers of one name, and not across names', async () => {
    const c = cache();
    const loader = manualLoader<{ v: number }>();
    const first = c.get('a', loader.load);
    const second = c.get('a', loader.load);
    const other = c.get('b', loader.load);
    expect(second).toBe(first);
    expect(loader.calls.map((call) => call.name)).toEqual(['a', 'b']);
    loader.calls[0]!.load.resolve({ v: 1 });
    loader.calls[1]!.load.resolve({ v: 2 });
    expect(await Promise.all([first, second, other])).toEqual([{ v: 1 }, { v: 1 }, { v: 2 }]);
    expect(c.misses).toBe(2);
  });

  it('does not store a failed load: its waiting callers get the error and the next caller loads again', async () => {
    const c = cache();
    const loader = manualLoader<{ v: number }>();
    const first = c.get('a', loader.load);
    const joined = c.get('a', loader.load);
    const failure = new Error('store unavailable');
    loader.calls[0]!.load.reject(failure);
    await expect(first).rejects.toBe(failure);
    await expect(joined).rejects.toBe(failure);
    expect(c.size).toBe(0);
    expect(c.peek('a')).toBeUndefined();

    const retry = c.get('a', loader.load);
    expect(loader.calls).toHaveLength(2);
    loader.calls[1]!.load.resolve({ v: 2 });
    expect(await retry).toEqual({ v: 2 });
    expect(c.peek('a')).toEqual({ v: 2 });
  });

  it('does not store a load that an invalidation of its name overtook, and a new caller starts a new load', async () => {
    const c = cache();
    const loader = manualLoader<{ v: number }>();
    const before = c.get('a', loader.load);
    c.invalidate('a');
    const after = c.get('a', loader.load);
    expect(after).not.toBe(before);
    expect(loader.calls).toHaveLength(2);

    loader.calls[0]!.load.resolve({ v: 1 });
    expect(await before).toEqual({ v: 1 });
    expect(c.peek('a')).toBeUndefined();
    loader.calls[1]!.load.resolve({ v: 2 });
    expect(await after).toEqual({ v: 2 });
    expect(c.peek('a')).toEqual({ v: 2 });
  });

  it('abandons loads of other names too on an invalidation of one name', async () => {
    const c = cache();
    const loader = manualLoader<{ v: number }>();
    const b = c.get('b', loader.load);
    c.invalidate('a');
    expect(c.get('b', loader.load)).not.toBe(b);
    loader.calls[0]!.load.resolve({ v: 1 });
    await b;
    expect(c.peek('b')).toBeUndefined();
  });

  it('never stores a load started before an invalidation, even when it settles after a later load that is stored', async () => {
    const c = cache();
    const loader = manualLoader<{ v: number }>();
    const stale = c.get('a', loader.load);
    c.invalidate();
    const fresh = c.get('a', loader.load);
    loader.calls[1]!.load.resolve({ v: 2 });
    expect(await fresh).toEqual({ v: 2 });
    expect(c.peek('a')).toEqual({ v: 2 });

    loader.calls[0]!.load.resolve({ v: 1 });
    expect(await stale).toEqual({ v: 1 });
    expect(c.peek('a')).toEqual({ v: 2 });
    await settle();
    expect(c.get('a', loader.load)).toEqual({ v: 2 });
  });

  it('drops every entry on invalidate() and only the named ones on invalidate(name) and invalidateMany', async () => {
    const c = cache();
    const names = ['a', 'b', 'c', 'd'];
    for (const [i, name] of names.entries()) await c.get(name, () => Promise.resolve({ v: i }));
    c.invalidate('a');
    expect(names.map((name) => c.peek(name)?.v)).toEqual([undefined, 1, 2, 3]);
    c.invalidateMany(['b', 'c']);
    expect(names.map((name) => c.peek(name)?.v)).toEqual([undefined, undefined, undefined, 3]);
    await c.get('a', () => Promise.resolve({ v: 9 }));
    c.invalidate();
    expect(c.size).toBe(0);
    expect(names.map((name) => c.peek(name))).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('abandons loads in flight on invalidateMany of no names at all', async () => {
    const c = cache();
    const loader = manualLoader<{ v: number }>();
    const pending = c.get('a', loader.load);
    c.invalidateMany([]);
    loader.calls[0]!.load.resolve({ v: 1 });
    await pending;
    expect(c.peek('a')).toBeUndefined();
  });

  it('drops the entries a test picks with invalidateWhere', async () => {
    const c = cache();
    for (const v of [1, 2, 3, 4]) await c.get(`n${v}`, () => Promise.resolve({ v }));
    c.invalidateWhere((value, name) => value.v % 2 === 0 || name === 'n1');
    expect(c.size).toBe(1);
    expect(c.peek('n3')).toEqual({ v: 3 });
  });

  it('getNow: answers a stored entry, else reads at once and stores it, else leaves the read to get', async () => {
    let trusted = true;
    const c = cache({ trusted: () => trusted });
    const reads: string[] = [];
    const readNow = (name: string, v: number | undefined) => {
      reads.push(name);
      return v === undefined ? undefined : { v };
    };
    expect(c.getNow('a', readNow, 1)).toEqual({ v: 1 });
    expect(c.getNow('a', readNow, 2)).toEqual({ v: 1 });
    expect(reads).toEqual(['a']);
    expect([c.hits, c.misses]).toEqual([1, 1]);
    // The source cannot read now: nothing stored, nothing counted.
    expect(c.getNow('b', readNow, undefined)).toBeUndefined();
    expect([c.size, c.misses]).toEqual([1, 1]);
    // A load of the name in flight: the caller joins it through get, no second read.
    const loader = manualLoader<{ v: number }>();
    const pending = c.get('c', loader.load);
    expect(c.getNow('c', readNow, 3)).toBeUndefined();
    expect(reads).toEqual(['a', 'b']);
    loader.calls[0]!.load.resolve({ v: 3 });
    expect(await pending).toEqual({ v: 3 });
    // Untrusted: read through, never stored.
    trusted = false;
    expect(c.getNow('d', readNow, 4)).toEqual({ v: 4 });
    trusted = true;
    expect(c.peek('d')).toBeUndefined();
  });

  it('reads through while untrusted: loads every time, never shares, never stores, never peeks', async () => {
    let trusted = true;
    const c = cache({ trusted: () => trusted });
    await c.get('a', () => Promise.resolve({ v: 1 }));
    trusted = false;
    expect(c.peek('a')).toBeUndefined();
    const loader = manualLoader<{ v: number }>();
    const first = c.get('a', loader.load);
    const second = c.get('a', loader.load);
    expect(loader.calls).toHaveLength(2);
    expect(second).not.toBe(first);
    loader.calls[0]!.load.resolve({ v: 2 });
    loader.calls[1]!.load.resolve({ v: 3 });
    expect(await first).toEqual({ v: 2 });
    expect(await second).toEqual({ v: 3 });
    expect(c.misses).toBe(3);

    const fresh = c.get('b', loader.load);
    expect(loader.calls).toHaveLength(3);
    trusted = true;
    // 'a' was kept from before; what was read while untrusted was not stored over it.
    expect(c.peek('a')).toEqual({ v: 1 });
    expect(c.peek('b')).toBeUndefined();
    void fresh;
  });

  it('does not store a load that settles after trust was lost', async () => {
    let trusted = true;
    const c = cache({ trusted: () => trusted });
    const loader = manualLoader<{ v: number }>();
    const pending = c.get('a', loader.load);
    trusted = false;
    loader.calls[0]!.load.resolve({ v: 1 });
    await pending;
    trusted = true;
    expect(c.peek('a')).toBeUndefined();
  });

  it('expires entries after ttlMs on its clock', async () => {
    let now = 1_000;
    const c = cache({ ttlMs: 5_000, now: () => now });
    await c.get('a', () => Promise.resolve({ v: 1 }));
    now += 4_999;
    expect(c.peek('a')).toEqual({ v: 1 });
    now += 2;
    expect(c.peek('a')).toBeUndefined();
    const loader = manualLoader<{ v: number }>();
    void c.get('a', loader.load);
    expect(loader.calls).toHaveLength(1);
  });

  it('gives each value the lifetime ttlFor names, and does not store one it gives 0', async () => {
    let now = 0;
    const c = cache({ ttlMs: 60_000, now: () => now, ttlFor: (value) => (value.v < 0 ? 1_000 : value.v === 0 ? 0 : undefined) });
    await c.get('negative', () => Promise.resolve({ v: -1 }));
    await c.get('zero', () => Promise.resolve({ v: 0 }));
    await c.get('positive', () => Promise.resolve({ v: 1 }));
    expect(c.peek('zero')).toBeUndefined();
    now = 1_001;
    expect(c.peek('negative')).toBeUndefined();
    expect(c.peek('positive')).toEqual({ v: 1 });
    now = 60_001;
    expect(c.peek('positive')).toBeUndefined();
  });

  it('honours ttlFor without a default ttl', async () => {
    let now = 0;
    const c = cache({ now: () => now, ttlFor: (value) => (value.v < 0 ? 1_000 : undefined) });
    await c.get('negative', () => Promise.resolve({ v: -1 }));
    await c.get('positive', () => Promise.resolve({ v: 1 }));
    now = 10_000_000;
    expect(c.peek('negative')).toBeUndefined();
    expect(c.peek('positive')).toEqual({ v: 1 });
  });

  it('keeps values with a lifetime of their own apart: a flood of them evicts only their kind (briefMaxEntries)', async () => {
    const dropped: string[] = [];
    const c = cache({ maxEntries: 3, briefMaxEntries: 2, ttlFor: (value) => (value.v < 0 ? 1_000 : undefined), onDrop: (_value, name) => dropped.push(name) });
    for (const name of ['a', 'b', 'c']) await c.get(name, () => Promise.resolve({ v: 1 }));
    for (let i = 0; i < 10; i++) await c.get(`unknown-${i}`, () => Promise.resolve({ v: -1 }));
    expect(['a', 'b', 'c'].map((name) => c.peekQuietly(name))).toEqual([{ v: 1 }, { v: 1 }, { v: 1 }]);
    expect(c.peek('unknown-9')).toEqual({ v: -1 });
    expect(c.peek('unknown-0')).toBeUndefined();
    expect(c.size).toBe(5);
    expect(dropped).toEqual(['unknown-0', 'unknown-1', 'unknown-2', 'unknown-3', 'unknown-4', 'unknown-5', 'unknown-6', 'unknown-7']);
    // Invalidations reach both kinds.
    c.invalidateMany(['a', 'unknown-9']);
    expect([c.peek('a'), c.peek('unknown-9')]).toEqual([undefined, undefined]);
    c.invalidateWhere((value) => value.v < 0);
    expect(c.size).toBe(2);
    c.invalidate();
    expect(c.size).toBe(0);
  });

  it('keeps the values side picks in an LRU of their own: maxEntries counts the others alone', async () => {
    const c = cache({ maxEntries: 2, side: { picks: (value) => value.v >= 100, maxEntries: 1 } });
    for (const [name, v] of [['a', 1], ['p', 100], ['b', 2], ['q', 101]] as const) await c.get(name, () => Promise.resolve({ v }));
    expect([c.peek('a'), c.peek('b'), c.peek('p'), c.peek('q')]).toEqual([{ v: 1 }, { v: 2 }, undefined, { v: 101 }]);
    expect(c.size).toBe(3);
    c.invalidateMany(['q']);
    expect(c.peekQuietly('q')).toBeUndefined();
    c.invalidate();
    expect(c.size).toBe(0);
  });

  it('holds one value per name, in the LRU of its kind, when a load replaces a value of the other kind', async () => {
    const c = cache({ ttlFor: (value) => (value.v < 0 ? 1_000 : undefined) });
    await c.get('x', () => Promise.resolve({ v: -1 }));
    c.invalidateMany([]); // an event about something else: nothing dropped
    expect(c.peek('x')).toEqual({ v: -1 });
    c.invalidate('x');
    await c.get('x', () => Promise.resolve({ v: 2 }));
    expect(c.size).toBe(1);
    expect(c.peek('x')).toEqual({ v: 2 });
  });

  it('evicts the least recently used entry beyond maxEntries, telling onDrop', async () => {
    const dropped: string[] = [];
    const stored: string[] = [];
    const c = cache({ maxEntries: 2, onStore: (_value, name) => stored.push(name), onDrop: (_value, name) => dropped.push(name) });
    await c.get('a', () => Promise.resolve({ v: 1 }));
    await c.get('b', () => Promise.resolve({ v: 2 }));
    expect(c.peek('a')).toEqual({ v: 1 });
    await c.get('c', () => Promise.resolve({ v: 3 }));
    expect(c.size).toBe(2);
    expect(c.peek('b')).toBeUndefined();
    expect(c.peek('a')).toEqual({ v: 1 });
    expect(stored).toEqual(['a', 'b', 'c']);
    expect(dropped).toEqual(['b']);
    c.invalidate();
    expect(dropped.sort()).toEqual(['a', 'b', 'c']);
  });

  it('finds an entry with peekQuietly without marking it recently used or counting a hit, and nothing while untrusted', async () => {
    let trusted = true;
    const c = cache({ maxEntries: 2, trusted: () => trusted });
    await c.get('a', () => Promise.resolve({ v: 1 }));
    await c.get('b', () => Promise.resolve({ v: 2 }));
    const hits = c.hits;
    expect(c.peekQuietly('a')).toEqual({ v: 1 });
    expect(c.hits).toBe(hits);
    // 'a' is still the least recently used: the next entry evicts it.
    await c.get('c', () => Promise.resolve({ v: 3 }));
    expect(c.peekQuietly('a')).toBeUndefined();
    expect(c.peekQuietly('b')).toEqual({ v: 2 });
    trusted = false;
    expect(c.peekQuietly('b')).toBeUndefined();
  });

  it('does not call onStore for a load it does not store', async () => {
    const stored: string[] = [];
    const c = cache({ onStore: (_value, name) => stored.push(name) });
    const loader = manualLoader<{ v: number }>();
    const pending = c.get('a', loader.load);
    c.invalidate('a');
    loader.calls[0]!.load.resolve({ v: 1 });
    await pending;
    expect(stored).toEqual([]);
  });
});
