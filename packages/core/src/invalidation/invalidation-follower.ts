import type { Invalidation, InvalidationLog } from '../ports.js';

/** Timers, injectable so that tests drive time by hand. */
export interface FollowerTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: FollowerTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface InvalidationFollowerOptions {
  /** The longest time between two reads of the log (default 200 ms). */
  readonly pollMs?: number;
  /**
   * Caches are trusted only while the last successful read started less than this long ago (default
   * 900 ms): whatever is lost, a change is seen, or caches are bypassed, within a second.
   */
  readonly staleAfterMs?: number;
  /**
   * How long a hole in the sequence is waited for (default 30 s): on PostgreSQL an append that took
   * its `seq` earlier may commit later; a rolled-back append leaves a hole for good.
   */
  readonly gapGraceMs?: number;
  /** Entries read per statement (default 500). */
  readonly batch?: number;
  /** Entries older than this are pruned by `prune` (default 1 h). */
  readonly retentionMs?: number;
  readonly timers?: FollowerTimers;
  readonly onError?: (err: unknown) => void;
}

/**
 * Follows the invalidation log of a shared store and hands every entry written by any instance to
 * `emit`, once: woken by the store's change hint (LISTEN/NOTIFY, `data_version`) and polling at least
 * every `pollMs` in case a hint is lost. `healthy` says whether caches may be trusted: only while a
 * read of the log succeeded recently enough that no change older than `staleAfterMs` can be unseen.
 *
 * Entries are handled by sequence number with a floor below which everything is handled, and the
 * handled numbers above it; a hole is waited for `gapGraceMs`, since on PostgreSQL sequence order
 * and commit order differ.
 */
export class InvalidationFollower {
  private readonly pollMs: number;
  private readonly staleAfterMs: number;
  private readonly gapGraceMs: number;
  private readonly batch: number;
  private readonly timers: FollowerTimers;
  /** Every `seq` at or below it is handled (seen or given up). */
  private floor = 0;
  /** Handled numbers above the floor. */
  private readonly seen = new Set<number>();
  /** Holes above the floor, with when they were first noticed. */
  private readonly holes = new Map<number, number>();
  private lastGoodReadStartedAt = Number.NEGATIVE_INFINITY;
  private timer: unknown = null;
  private running = false;
  private wanted = false;
  private waiting: Array<() => void> = [];
  private started = false;
  private closed = false;
  /** Whether the last read of the log failed (the store unreachable, say): waiting for another is no use. */
  lastReadFailed = false;
  /** Reads that succeeded, and entries handed out: for metrics and tests. */
  reads = 0;
  received = 0;

  constructor(
    private readonly log: Pick<InvalidationLog, 'after' | 'latestSeq'> & { readonly origin?: string },
    private readonly emit: (event: Invalidation) => void,
    options: InvalidationFollowerOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 200;
    this.staleAfterMs = options.staleAfterMs ?? 900;
    this.gapGraceMs = options.gapGraceMs ?? 30_000;
    this.batch = options.batch ?? 500;
    this.timers = options.timers ?? systemTimers;
    this.onError = options.onError ?? (() => {});
  }

  private readonly onError: (err: unknown) => void;

  /** Starts from the log's current end (caches start empty, so nothing older matters). */
  async start(): Promise<void> {
    this.floor = await this.log.latestSeq();
    this.lastGoodReadStartedAt = this.timers.now();
    this.started = true;
    this.schedule();
  }

  /** True while caches may be trusted. */
  get healthy(): boolean {
    return this.started && !this.closed && this.timers.now() - this.lastGoodReadStartedAt < this.staleAfterMs;
  }

  /** The time since the last successful read began, in milliseconds (the invalidation lag bound). */
  get lagMs(): number {
    return this.timers.now() - this.lastGoodReadStartedAt;
  }

  /** A hint that the log has grown: read now, or right after the read in progress. */
  wake(): void {
    if (!this.started || this.closed) return;
    this.kick();
  }

  /** Reads the log; resolves once a read that began after this call has finished. */
  read(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.kick();
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private kick(): void {
    this.wanted = true;
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    while (this.wanted && !this.closed) {
      this.wanted = false;
      const waiters = this.waiting.splice(0);
      await this.readOnce();
      for (const resolve of waiters) resolve();
    }
    this.running = false;
    for (const resolve of this.waiting.splice(0)) resolve();
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.running) return;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.kick();
    }, this.pollMs);
  }

  private async readOnce(): Promise<void> {
    const startedAt = this.timers.now();
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    try {
      for (;;) {
        const entries = await this.log.after(this.floor, this.batch);
        for (const entry of entries) {
          if (entry.seq <= this.floor || this.seen.has(entry.seq)) continue;
          this.seen.add(entry.seq);
          this.holes.delete(entry.seq);
          // This store's own changes were published to its caches when they were made: only the
          // other writers' are news (and re-emitting ours would drop freshly cached entries again).
          if (entry.origin !== undefined && entry.origin === this.log.origin) continue;
          this.received++;
          this.emit(entry.event);
        }
        this.advance(startedAt);
        if (entries.length < this.batch) break;
      }
      this.reads++;
      this.lastGoodReadStartedAt = startedAt;
      this.lastReadFailed = false;
    } catch (err) {
      this.lastReadFailed = true;
      this.onError(err);
    }
  }

  /** Notes new holes below the highest seen number, then raises the floor past what is settled. */
  private advance(now: number): void {
    let highest = this.floor;
    for (const seq of this.seen) if (seq > highest) highest = seq;
    if (highest - this.floor > 100_000) {
      // A jump this large is no hole to wait for (a reset sequence, a restored database): start over.
      this.seen.clear();
      this.holes.clear();
      this.floor = highest;
      this.emit({ type: 'all' });
      return;
    }
    for (let seq = this.floor + 1; seq < highest; seq++) {
      if (!this.seen.has(seq) && !this.holes.has(seq)) this.holes.set(seq, now);
    }
    for (;;) {
      const next = this.floor + 1;
      if (this.seen.delete(next)) {
        this.floor = next;
        continue;
      }
      const noticed = this.holes.get(next);
      if (noticed !== undefined && now - noticed >= this.gapGraceMs) {
        this.holes.delete(next);
        this.floor = next;
        continue;
      }
      break;
    }
  }
}
