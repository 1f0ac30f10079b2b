import type { KeyId, OrgId } from '../ids.js';
import type { CreditSpend, UsageWriter } from '../ports.js';
import { nextTurn } from './transactional-usage-writer.js';
import type { UsageIncrement } from './usage.js';

const MINUTE_MS = 60_000;
/** Rows a flush prepares between two event-loop turns: well under a millisecond of work. */
export const ROWS_PER_SLICE = 1_000;

function incrementOf(c: Counter): UsageIncrement {
  return { orgId: c.orgId, keyId: c.keyId, minuteStart: new Date(c.minuteStart), valid: c.valid, rejected: c.rejected, rejectedByCode: c.rejectedByCode ?? {} };
}
/**
 * `lastUsedAt` is written at most this often per key (the latest use always gets written: a newer
 * use waits for the next flush after the interval, and the final flush writes everything).
 */
export const LAST_USED_RESOLUTION_MS = 60_000;

export interface UsageRecorderOptions {
  readonly maxBufferedEntries: number;
  /** Counters and `lastUsedAt`s a flush prepares between two event-loop turns (default ROWS_PER_SLICE). */
  readonly rowsPerSlice?: number;
  readonly onOverflow?: () => void;
}

interface Counter {
  orgId: OrgId;
  keyId: KeyId;
  minuteStart: number;
  valid: number;
  rejected: number;
  /** Made at the first rejection: most counters count none. */
  rejectedByCode: Record<string, number> | null;
  /**
   * The latest VALID verification it counted and not yet handed to `lastUsed` (-1: none): kept on the
   * counter, so counting a use touches no map but the minute's.
   */
  lastUsedMs: number;
}

/** Buffered counters by minute, then by key: counting a use makes no string and touches one small map. */
class Counters {
  private readonly byMinute = new Map<number, Map<KeyId, Counter>>();
  /** Counters held, every minute's. */
  size = 0;

  /** The counters of one minute (made empty if there are none). */
  minute(minuteStart: number): Map<KeyId, Counter> {
    let counters = this.byMinute.get(minuteStart);
    if (!counters) this.byMinute.set(minuteStart, (counters = new Map()));
    return counters;
  }

  /** Every counter, oldest minute first. */
  all(): Counter[] {
    const list: Counter[] = [];
    for (const counters of this.byMinute.values()) for (const counter of counters.values()) list.push(counter);
    return list;
  }
}

/**
 * Usage, off the hot path: verifications are counted in memory per key and minute, and `flush` hands
 * every count and the due `lastUsedAt`s to a `UsageWriter` (on SQLite a worker thread with its own
 * connection, so a commit's fsync never holds the event loop; elsewhere small transactions an
 * event-loop turn apart). What the writer did not report written goes back, so a count is written
 * once or (after a crash) at most one flush interval of counts is lost; never twice. `lastUsedAt` is
 * written once per key per LAST_USED_RESOLUTION_MS at most, so a busy key costs one row update a
 * minute, not one per flush.
 */
export class UsageRecorder {
  private counters = new Counters();
  /** The minute last counted in, and its counters (one of `counters`' minutes). */
  private minute = -1;
  private minuteCounters = new Map<KeyId, Counter>();
  private lastUsed = new Map<KeyId, number>();
  /**
   * The `lastUsedAt` last written per key, for keys written within the resolution: as ms after
   * `writtenOrigin` (the first one written), a small integer V8 keeps in the map's slot, where an
   * epoch-ms value would cost a 16-byte heap number per key (issue 13: one per key used in the last
   * minute). Two generations: a flush that finds the newer one older than the resolution drops the
   * older one whole (everything in it was written longer ago than that) rather than going through a
   * million entries to find the old ones.
   */
  private written = new Map<KeyId, number>();
  private writtenBefore = new Map<KeyId, number>();
  /** When `written` became the newer generation (ms after `writtenOrigin`). */
  private generationStart = 0;
  private writtenOrigin: number | null = null;
  private flushing: Promise<void> | null = null;
  /** Credits spent and not yet written: per key, the latest version and period spent under… */
  private spends = new Map<KeyId, { version: number; period: number; amount: number }>();
  /** …and spending under an earlier version or period of the same key, in the order it happened. */
  private earlierSpends: CreditSpend[] = [];

  constructor(
    private readonly writer: UsageWriter,
    private readonly options: UsageRecorderOptions = { maxBufferedEntries: 100_000 },
  ) {}

  get pendingEntries(): number {
    return this.counters.size;
  }

  /** Counts credits a verification spent, to be written (`KeyRepository.spendCredits`) with the next flush. */
  recordSpend(keyId: KeyId, version: number, period: number, amount: number): void {
    const spend = this.spends.get(keyId);
    if (spend && spend.version === version && spend.period === period) {
      spend.amount += amount;
      return;
    }
    if (spend) this.earlierSpends.push({ keyId, ...spend });
    this.spends.set(keyId, { version, period, amount });
  }

  record(orgId: OrgId, keyId: KeyId, code: string, at: Date | number): void {
    const time = typeof at === 'number' ? at : at.getTime();
    const minuteStart = time - (time % MINUTE_MS);
    if (minuteStart !== this.minute) {
      this.minute = minuteStart;
      this.minuteCounters = this.counters.minute(minuteStart);
    }
    let counter = this.minuteCounters.get(keyId);
    if (!counter) {
      counter = { orgId, keyId, minuteStart, valid: 0, rejected: 0, rejectedByCode: null, lastUsedMs: -1 };
      this.minuteCounters.set(keyId, counter);
      if (++this.counters.size >= this.options.maxBufferedEntries) this.options.onOverflow?.();
    }
    if (code === 'VALID') {
      counter.valid++;
      if (counter.lastUsedMs < time) counter.lastUsedMs = time;
    } else {
      counter.rejected++;
      const byCode = (counter.rejectedByCode ??= {});
      byCode[code] = (byCode[code] ?? 0) + 1;
    }
  }

  /**
   * Writes the buffered counts and the due `lastUsedAt`s (`{ final: true }`: every `lastUsedAt`, for
   * shutdown). Concurrent calls wait for the running flush, then flush again. A flush prepares its
   * rows `rowsPerSlice` at a time, an event-loop turn apart, so that a flush of a million keys never
   * holds the event loop for more than about a millisecond at once (issue 13: a flush built in one go
   * held verifications up for tens of milliseconds).
   */
  async flush(options: { final?: boolean } = {}): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.counters.size === 0 && this.lastUsed.size === 0 && this.spends.size === 0 && this.earlierSpends.length === 0) return;
    // Everything buffered is taken at once; what is counted from now on goes to a later flush.
    const counters = this.counters.all();
    const pending = this.lastUsed;
    const spends: CreditSpend[] = [...this.earlierSpends];
    for (const [keyId, spend] of this.spends) spends.push({ keyId, ...spend });
    this.counters = new Counters();
    this.minute = -1;
    this.minuteCounters = new Map();
    this.lastUsed = new Map();
    this.spends = new Map();
    this.earlierSpends = [];
    this.flushing = this.writeOut(counters, pending, spends, options.final === true).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  /** `flush`'s work on what it took: the rows made and the due touches found, a slice at a time, then written. */
  private async writeOut(counters: Counter[], pending: Map<KeyId, number>, spends: CreditSpend[], final: boolean): Promise<void> {
    const slice = this.options.rowsPerSlice ?? ROWS_PER_SLICE;
    // One pass over the counters: each one's row, and its latest use joins the touches still pending.
    const increments: UsageIncrement[] = new Array(counters.length);
    for (let i = 0; i < counters.length; i++) {
      if (i > 0 && i % slice === 0) await nextTurn();
      const counter = counters[i]!;
      increments[i] = incrementOf(counter);
      if (counter.lastUsedMs === -1) continue;
      const previous = pending.get(counter.keyId);
      if (previous === undefined || previous < counter.lastUsedMs) pending.set(counter.keyId, counter.lastUsedMs);
      counter.lastUsedMs = -1;
    }
    // The due touches become rows; those not due yet stay pending for a later flush.
    const touches: { keyId: KeyId; at: Date }[] = [];
    let newest = 0;
    let seen = 0;
    for (const [keyId, at] of pending) {
      if (++seen % slice === 0) await nextTurn();
      newest = Math.max(newest, at);
      const written = this.written.get(keyId) ?? this.writtenBefore.get(keyId);
      if (final || written === undefined || at - this.writtenOrigin! - written >= LAST_USED_RESOLUTION_MS) touches.push({ keyId, at: new Date(at) });
      else this.keepPending(keyId, at);
    }
    if (counters.length === 0 && touches.length === 0 && spends.length === 0) return;
    let counted = 0;
    let touched = 0;
    let spent = 0;
    const written = (moreIncrements: number, moreTouches: number, moreSpends: number) => {
      for (let i = touched; i < touched + moreTouches; i++) {
        const at = touches[i]!.at.getTime();
        this.writtenOrigin ??= at;
        this.written.set(touches[i]!.keyId, at - this.writtenOrigin);
      }
      counted += moreIncrements;
      touched += moreTouches;
      spent += moreSpends;
    };
    try {
      await this.writer.write({ increments, touches, spends }, written);
    } catch (err) {
      // What the writer did not report written goes back, to be written once by a later flush.
      this.restore(counters.slice(counted), new Map(touches.slice(touched).map(({ keyId, at }) => [keyId, at.getTime()])));
      // Spending not written comes before what was spent since: written in the order it happened.
      const unwritten = spends.slice(spent);
      if (unwritten.length) {
        const since = [...this.earlierSpends];
        for (const [keyId, spend] of this.spends) since.push({ keyId, ...spend });
        this.earlierSpends = [...unwritten, ...since];
        this.spends = new Map();
      }
      throw err;
    }
    // Entries older than the resolution no longer hold anything back.
    if (this.writtenOrigin !== null && newest - this.writtenOrigin - this.generationStart >= LAST_USED_RESOLUTION_MS) {
      this.writtenBefore = this.written;
      this.written = new Map();
      this.generationStart = newest - this.writtenOrigin;
    }
  }

  /** A touch kept for a later flush (the latest of it and any kept since). */
  private keepPending(keyId: KeyId, at: number): void {
    const current = this.lastUsed.get(keyId);
    if (current === undefined || current < at) this.lastUsed.set(keyId, at);
  }

  /** Releases the writer (its worker thread, if any); flush first. */
  close(): Promise<void> {
    return this.writer.close();
  }

  private restore(counters: readonly Counter[], lastUsed: Map<KeyId, number>): void {
    for (const old of counters) {
      const minute = this.counters.minute(old.minuteStart);
      const current = minute.get(old.keyId);
      if (!current) {
        minute.set(old.keyId, old);
        this.counters.size++;
        continue;
      }
      current.valid += old.valid;
      current.rejected += old.rejected;
      if (old.rejectedByCode) {
        const byCode = (current.rejectedByCode ??= {});
        for (const [code, n] of Object.entries(old.rejectedByCode)) byCode[code] = (byCode[code] ?? 0) + n;
      }
    }
    for (const [keyId, at] of lastUsed) this.keepPending(keyId, at);
  }
}
