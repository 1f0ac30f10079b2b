import type { KeyId, OrgId } from '../ids.js';
import type { Store } from '../ports.js';
import type { UsageIncrement } from './usage.js';

const MINUTE_MS = 60_000;
/** Rows written per transaction of a flush: small enough that one holds the event loop about a millisecond. */
const ROWS_PER_TRANSACTION = 500;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function incrementOf(c: Counter): UsageIncrement {
  return { orgId: c.orgId, keyId: c.keyId, minuteStart: new Date(c.minuteStart), valid: c.valid, rejected: c.rejected, rejectedByCode: c.rejectedByCode };
}
/**
 * `lastUsedAt` is written at most this often per key (the latest use always gets written: a newer
 * use waits for the next flush after the interval, and the final flush writes everything).
 */
export const LAST_USED_RESOLUTION_MS = 60_000;

interface Counter {
  orgId: OrgId;
  keyId: KeyId;
  minuteStart: number;
  valid: number;
  rejected: number;
  rejectedByCode: Record<string, number>;
}

/**
 * Usage, off the hot path: verifications are counted in memory per key and minute, and `flush` writes
 * every count and the due `lastUsedAt`s in small transactions (`rowsPerTransaction`) an event-loop turn
 * apart, so a flush of a busy minute never holds the loop for long. A failed transaction puts back what
 * it and the rest of that flush held, so a count is written once or (after a crash) at most one flush
 * interval of counts is lost; never twice. `lastUsedAt` is written once per key per
 * LAST_USED_RESOLUTION_MS at most, so a busy key costs one row update a minute, not one per flush.
 */
export class UsageRecorder {
  private counters = new Map<string, Counter>();
  /** The current minute's counters by key, so that counting makes no string (kept in step with `counters`). */
  private minute = -1;
  private minuteCounters = new Map<KeyId, Counter>();
  private lastUsed = new Map<KeyId, number>();
  /** The `lastUsedAt` last written per key, for keys written within the resolution. */
  private written = new Map<KeyId, number>();
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly store: Pick<Store, 'transaction'>,
    private readonly options: {
      maxBufferedEntries: number;
      onOverflow?: () => void;
      /** Rows (counts and `lastUsedAt`s) per transaction (default 500). */
      rowsPerTransaction?: number;
      /** Waits between two transactions of one flush (default: one event-loop turn). */
      pause?: () => Promise<void>;
    } = { maxBufferedEntries: 100_000 },
  ) {}

  get pendingEntries(): number {
    return this.counters.size;
  }

  record(orgId: OrgId, keyId: KeyId, code: string, at: Date | number): void {
    const time = typeof at === 'number' ? at : at.getTime();
    const minuteStart = time - (time % MINUTE_MS);
    if (minuteStart !== this.minute) {
      this.minute = minuteStart;
      this.minuteCounters = new Map();
    }
    let counter = this.minuteCounters.get(keyId);
    if (!counter) {
      const name = `${keyId}|${minuteStart}`;
      counter = this.counters.get(name);
      if (!counter) {
        counter = { orgId, keyId, minuteStart, valid: 0, rejected: 0, rejectedByCode: {} };
        this.counters.set(name, counter);
        if (this.counters.size >= this.options.maxBufferedEntries) this.options.onOverflow?.();
      }
      this.minuteCounters.set(keyId, counter);
    }
    if (code === 'VALID') {
      counter.valid++;
      const previous = this.lastUsed.get(keyId);
      if (previous === undefined || previous < time) this.lastUsed.set(keyId, time);
    } else {
      counter.rejected++;
      counter.rejectedByCode[code] = (counter.rejectedByCode[code] ?? 0) + 1;
    }
  }

  /**
   * Writes the buffered counts and the due `lastUsedAt`s (`{ final: true }`: every `lastUsedAt`, for
   * shutdown). Concurrent calls wait for the running flush, then flush again.
   */
  async flush(options: { final?: boolean } = {}): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.counters.size === 0 && this.lastUsed.size === 0) return;
    const counters = this.counters;
    const pending = this.lastUsed;
    this.counters = new Map();
    this.minuteCounters = new Map();
    this.lastUsed = new Map();
    // Touches that are not due yet stay pending for a later flush.
    const lastUsed = new Map<KeyId, number>();
    let newest = 0;
    for (const [keyId, at] of pending) {
      newest = Math.max(newest, at);
      const written = this.written.get(keyId);
      if (options.final || written === undefined || at - written >= LAST_USED_RESOLUTION_MS) lastUsed.set(keyId, at);
      else this.lastUsed.set(keyId, at);
    }
    if (counters.size === 0 && lastUsed.size === 0) return;
    const names = [...counters.keys()];
    const keys = [...lastUsed.keys()];
    const chunk = this.options.rowsPerTransaction ?? ROWS_PER_TRANSACTION;
    const run = async () => {
      // Small transactions, an event-loop turn apart: a big flush never holds the loop (or, on SQLite,
      // the write lock) for long. Each is all or nothing; what a failed one held goes back.
      let counted = 0;
      let touched = 0;
      try {
        while (counted < names.length || touched < keys.length) {
          const increments = names.slice(counted, counted + chunk).map((name) => incrementOf(counters.get(name)!));
          const room = chunk - increments.length;
          const touches = room > 0 ? keys.slice(touched, touched + room).map((keyId) => ({ keyId, at: new Date(lastUsed.get(keyId)!) })) : [];
          await this.store.transaction(async (tx) => {
            if (increments.length) await tx.usage.add(increments);
            if (touches.length) await tx.keys.touchLastUsed(touches);
          });
          counted += increments.length;
          touched += touches.length;
          for (const { keyId } of touches) this.written.set(keyId, lastUsed.get(keyId)!);
          if (counted < names.length || touched < keys.length) await (this.options.pause ?? nextTurn)();
        }
      } catch (err) {
        this.restore(
          new Map(names.slice(counted).map((name) => [name, counters.get(name)!])),
          new Map(keys.slice(touched).map((keyId) => [keyId, lastUsed.get(keyId)!])),
        );
        throw err;
      }
      // Entries older than the resolution no longer hold anything back.
      for (const [keyId, at] of this.written) if (newest - at >= LAST_USED_RESOLUTION_MS) this.written.delete(keyId);
    };
    this.flushing = run().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private restore(counters: Map<string, Counter>, lastUsed: Map<KeyId, number>): void {
    for (const [name, old] of counters) {
      const current = this.counters.get(name);
      if (!current) {
        this.counters.set(name, old);
        continue;
      }
      current.valid += old.valid;
      current.rejected += old.rejected;
      for (const [code, n] of Object.entries(old.rejectedByCode)) current.rejectedByCode[code] = (current.rejectedByCode[code] ?? 0) + n;
    }
    for (const [keyId, at] of lastUsed) {
      const current = this.lastUsed.get(keyId);
      if (current === undefined || current < at) this.lastUsed.set(keyId, at);
    }
  }
}
