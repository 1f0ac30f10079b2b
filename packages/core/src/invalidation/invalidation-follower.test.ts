import { describe, expect, it } from 'vitest';
import type { Invalidation, InvalidationEntry } from '../ports.js';
import { InvalidationFollower, type FollowerTimers } from './invalidation-follower.js';

/** Time that moves only when told; timers fire as it passes them. */
function manualTimers(): FollowerTimers & { advance(ms: number): Promise<void> } {
  let now = 0;
  let nextId = 1;
  const pending = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
    async advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        pending.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        await settle();
      }
      now = until;
      await settle();
    },
  };
}

async function settle() {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** A log whose entries become visible when committed, in any order, and whose reads can fail. */
function fakeLog() {
  const committed: InvalidationEntry[] = [];
  let seq = 0;
  let failing = false;
  return {
    reads: 0,
    /** Takes the next sequence number now, as an insert does; the entry is visible only after `commit`. */
    reserve(event: Invalidation) {
      const entry: InvalidationEntry = { seq: ++seq, event, at: new Date(0), origin: 'another' };
      return { commit: () => committed.push(entry), entry };
    },
    append(event: Invalidation) {
      this.reserve(event).commit();
    },
    fail(value: boolean) {
      failing = value;
    },
    async after(after: number, limit: number) {
      this.reads++;
      if (failing) throw new Error('database unreachable');
      return committed.filter((e) => e.seq > after).sort((a, b) => a.seq - b.seq).slice(0, limit);
    },
    async latestSeq() {
      return committed.reduce((max, e) => Math.max(max, e.seq), 0);
    },
  };
}

const key = (n: number): Invalidation => ({ type: 'key', orgId: 'org_1' as never, keyId: `key_${n}` as never });

describe('InvalidationFollower', () => {
  it('starts at the end of the log: what came before is not handed out', async () => {
    const log = fakeLog();
    log.append(key(1));
    const seen: Invalidation[] = [];
    const timers = manualTimers();
    const follower = new InvalidationFollower(log, (e) => seen.push(e), { timers });
    await follower.start();
    log.append(key(2));
    await timers.advance(200);
    expect(seen).toEqual([key(2)]);
    follower.close();
  });

  it('reads at least every pollMs, and at once when woken', async () => {
    const log = fakeLog();
    const seen: Invalidation[] = [];
    const timers = manualTimers();
    const follower = new InvalidationFollower(log, (e) => seen.push(e), { timers, pollMs: 200 });
    await follower.start();
    log.append(key(1));
    await timers.advance(199);
    expect(seen).toEqual([]);
    await timers.advance(1);
    expect(seen).toEqual([key(1)]);
    log.append(key(2));
    follower.wake();
    await settle();
    expect(seen).toEqual([key(1), key(2)]);
    follower.close();
  });

  it('hands out an entry that commits after a later one (a hole filled in), exactly once', async () => {
    const log = fakeLog();
    const seen: Invalidation[] = [];
    const timers = manualTimers();
    const follower = new InvalidationFollower(log, (e) => seen.push(e), { timers, gapGraceMs: 5000 });
    await follower.start();
    const slow = log.reserve(key(1));
    log.append(key(2));
    await follower.read();
    expect(seen).toEqual([key(2)]);
    slow.commit();
    await follower.read();
    expect(seen).toEqual([key(2), key(1)]);
    await follower.read();
    expect(seen).toHaveLength(2);
    follower.close();
  });

  it('gives up on a hole after the grace period (a rolled-back append) and moves on', async () => {
    const log = fakeLog();
    const seen: Invalidation[] = [];
    const timers = manualTimers();
    const follower = new InvalidationFollower(log, (e) => seen.push(e), { timers, gapGraceMs: 1000, pollMs: 200 });
    await follower.start();
    log.reserve(key(1)); // never committed
    log.append(key(2));
    await timers.advance(200);
    const readsBefore = log.reads;
    await timers.advance(2000);
    expect(log.reads).toBeGreaterThan(readsBefore);
    log.append(key(3));
    await timers.advance(200);
    expect(seen).toEqual([key(2), key(3)]);
    follower.close();
  });

  it('is healthy only while a read succeeded within staleAfterMs, says when its last read failed, and recovers without losing entries', async () => {
    const log = fakeLog();
    const seen: Invalidation[] = [];
    const timers = manualTimers();
    const follower = new InvalidationFollower(log, (e) => seen.push(e), { timers, pollMs: 200, staleAfterMs: 900 });
    expect(follower.healthy).toBe(false);
    await follower.start();
    expect(follower.healthy).toBe(true);
    expect(follower.lastReadFailed).toBe(false);
    log.fail(true);
    log.append(key(1));
    await timers.advance(800);
    expect(follower.healthy).toBe(true);
    expect(follower.lastReadFailed).toBe(true);
    expect(follower.lagMs).toBe(800);
    await timers.advance(200);
    expect(follower.healthy).toBe(false);
    expect(seen).toEqual([]);
    log.fail(false);
    await timers.advance(200);
    expect(follower.healthy).toBe(true);
    expect(follower.lastReadFailed).toBe(false);
    expect(seen).toEqual([key(1)]);
    follower.close();
    expect(follower.healthy).toBe(false);
  });

  it("skips its own store's entries (already published to its caches), and hands out the others'", async () => {
    const log = { ...fakeLog(), origin: 'me' };
    const seen: Invalidation[] = [];
    const follower = new InvalidationFollower(log, (e) => seen.push(e), { timers: manualTimers() });
    await follower.start();
    const mine = log.reserve(key(1));
    (mine.entry as { origin: string }).origin = 'me';
    mine.commit();
    log.append(key(2));
    await follower.read();
    expect(seen).toEqual([key(2)]);
    follower.close();
  });

  it('reads in batches until the log is drained', async () => {
    const log = fakeLog();
    const seen: Invalidation[] = [];
    const follower = new InvalidationFollower(log, (e) => seen.push(e), { timers: manualTimers(), batch: 3 });
    await follower.start();
    for (let i = 1; i <= 10; i++) log.append(key(i));
    await follower.read();
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => key(i + 1)));
    follower.close();
  });

  it('coalesces wake-ups during a read into one more read', async () => {
    const log = fakeLog();
    const follower = new InvalidationFollower(log, () => {}, { timers: manualTimers() });
    await follower.start();
    const before = log.reads;
    follower.wake();
    follower.wake();
    follower.wake();
    await settle();
    expect(log.reads - before).toBeLessThanOrEqual(2);
    follower.close();
  });
});
