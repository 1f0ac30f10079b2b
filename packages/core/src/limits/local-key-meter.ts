import type { KeyId } from '../ids.js';
import { CREDITS_MAX, creditPeriod, creditsRemainingAt, windowStartMs, type KeyCredits, type RateLimit } from './key-limits.js';
import type { CreditSpendSink, CreditsChange, KeyMeter, MeterReading, MeteredKey, WindowReading, WindowUse } from './key-meter.js';

interface WindowCount {
  readonly name: string;
  readonly limit: number;
  readonly windowSeconds: number;
  /** The window counted: [start, end) in ms since the epoch. */
  start: number;
  end: number;
  used: number;
}

interface Ledger {
  version: number;
  period: number;
  remaining: number;
}

interface KeyCounts {
  /** The key's limits the windows were made for (records share one array per distinct list). */
  limits: readonly RateLimit[];
  windows: WindowCount[];
  ledger: Ledger | null;
}

export interface LocalKeyMeterOptions {
  /** Where spent credits go (the usage recorder, which writes them with its flush). */
  readonly spent: CreditSpendSink;
  /** Called once when a verification spends a key's last credit. */
  readonly onExhausted?: (key: MeteredKey) => void;
  /** Keys whose counts are kept at most (the longest known go first); default 1,000,000. */
  readonly maxKeys?: number;
}

/** The outcome of a change of credits from what is left now; null for a decrement below zero. */
export function changedCredits(current: number, change: CreditsChange): number | null {
  switch (change.op) {
    case 'set':
      return change.amount;
    case 'increment':
      return Math.min(CREDITS_MAX, current + change.amount);
    case 'decrement':
      return current >= change.amount ? current - change.amount : null;
  }
}

/**
 * The meter of one instance: windows and credit ledgers in this process's memory, exact for the
 * verifications this instance makes. A ledger starts from the stored credits and is authoritative
 * from then on for as long as the credits' version is unchanged (its unflushed spending is not yet in
 * the store); an administrator's change gives a new version, which starts it over.
 */
export class LocalKeyMeter implements KeyMeter {
  readonly degraded = null;
  private readonly counts = new Map<KeyId, KeyCounts>();
  private readonly maxKeys: number;

  constructor(private readonly options: LocalKeyMeterOptions) {
    this.maxKeys = options.maxKeys ?? 1_000_000;
  }

  spend(key: MeteredKey, cost: number, nowMs: number): MeterReading {
    const counts = this.countsOf(key);
    const windows = this.currentWindows(key, counts, nowMs);
    let exceeded: string[] | null = null;
    let retryAfterMs = 0;
    for (let i = 0; i < windows.length; i++) {
      const count = windows[i]!;
      if (count.used + cost > count.limit) {
        (exceeded ??= []).push(count.name);
        retryAfterMs = Math.max(retryAfterMs, count.end - nowMs);
      }
    }
    const ledger = key.credits ? this.ledgerOf(key.credits, counts, nowMs) : null;
    if (exceeded) {
      return { code: 'RATE_LIMITED', windows: readings(windows), exceeded, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)), credits: ledger?.remaining ?? null };
    }
    if (ledger && ledger.remaining < cost) return { code: 'USAGE_EXCEEDED', windows: windows.length ? readings(windows) : null, credits: ledger.remaining };
    for (const count of windows) count.used += cost;
    if (ledger && cost > 0) {
      ledger.remaining -= cost;
      this.options.spent(key, ledger.version, ledger.period, cost);
      if (ledger.remaining === 0) this.options.onExhausted?.(key);
    }
    return { code: 'VALID', windows: windows.length ? readings(windows) : null, credits: ledger?.remaining ?? null };
  }

  async use(keys: readonly MeteredKey[], nowMs: number): Promise<Map<KeyId, WindowUse[]>> {
    const result = new Map<KeyId, WindowUse[]>();
    for (const key of keys) {
      if (key.rateLimits.length === 0) continue;
      const counts = this.counts.get(key.id);
      result.set(
        key.id,
        key.rateLimits.map((limit) => {
          const start = windowStartMs(limit.windowSeconds, nowMs);
          // As `spend` counts on: a limit that keeps its name and window keeps its count.
          const count = counts?.windows.find((w) => w.name === limit.name && w.windowSeconds === limit.windowSeconds && w.start === start);
          return { name: limit.name, limit: limit.limit, used: count?.used ?? 0, resetAtMs: start + limit.windowSeconds * 1000 };
        }),
      );
    }
    return result;
  }

  async changeCredits(key: MeteredKey & { readonly credits: KeyCredits }, change: CreditsChange, version: number, nowMs: number): Promise<number | null> {
    const counts = this.countsOf(key);
    const ledger = this.ledgerOf(key.credits, counts, nowMs);
    const remaining = changedCredits(ledger.remaining, change);
    if (remaining === null) return null;
    // What this instance spent and has not written yet is in `ledger.remaining`, so the new amount
    // accounts for it: the spending recorded under the old version is no longer written.
    counts.ledger = { version, period: creditPeriod(key.credits.refill, nowMs), remaining };
    return remaining;
  }

  private countsOf(key: MeteredKey): KeyCounts {
    let counts = this.counts.get(key.id);
    if (!counts) {
      // Bounded: past the bound the key known longest goes (a Map iterates in insertion order).
      if (this.counts.size >= this.maxKeys) this.counts.delete(this.counts.keys().next().value!);
      counts = { limits: [], windows: [], ledger: null };
      this.counts.set(key.id, counts);
    }
    return counts;
  }

  /** The key's windows, in the order of its limits, each counting the window `nowMs` falls in. */
  private currentWindows(key: MeteredKey, counts: KeyCounts, nowMs: number): WindowCount[] {
    if (counts.limits !== key.rateLimits) {
      // Other limits (or another record with the same ones): keep the counts of windows that stayed the same.
      const previous = counts.windows;
      counts.windows = key.rateLimits.map((l) => {
        const kept = previous.find((w) => w.name === l.name && w.windowSeconds === l.windowSeconds);
        return { name: l.name, limit: l.limit, windowSeconds: l.windowSeconds, start: kept?.start ?? 0, end: kept?.end ?? 0, used: kept?.used ?? 0 };
      });
      counts.limits = key.rateLimits;
    }
    const windows = counts.windows;
    for (let i = 0; i < windows.length; i++) {
      const window = windows[i]!;
      if (nowMs >= window.end || nowMs < window.start) {
        window.start = windowStartMs(window.windowSeconds, nowMs);
        window.end = window.start + window.windowSeconds * 1000;
        window.used = 0;
      }
    }
    return windows;
  }

  /** The key's ledger: started (again) from the stored credits when their version is newer, refilled when a period began. */
  private ledgerOf(credits: KeyCredits, counts: KeyCounts, nowMs: number): Ledger {
    let ledger = counts.ledger;
    if (!ledger || ledger.version < credits.version) {
      ledger = { version: credits.version, period: Math.max(credits.period, creditPeriod(credits.refill, nowMs)), remaining: creditsRemainingAt(credits, nowMs) };
      counts.ledger = ledger;
    } else if (credits.refill) {
      const period = creditPeriod(credits.refill, nowMs);
      if (period > ledger.period) {
        ledger.period = period;
        ledger.remaining = credits.refill.amount;
      }
    }
    return ledger;
  }
}

function readings(windows: readonly WindowCount[]): WindowReading[] {
  const result: WindowReading[] = new Array(windows.length);
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i]!;
    result[i] = { name: w.name, limit: w.limit, windowSeconds: w.windowSeconds, remaining: w.limit > w.used ? w.limit - w.used : 0, resetAtMs: w.end };
  }
  return result;
}
