import type { KeyId, OrgId } from '../ids.js';
import type { KeyCredits, RateLimit } from './key-limits.js';

/** What metering needs of a key: its identity, its limits and its credits. */
export interface MeteredKey {
  readonly id: KeyId;
  readonly orgId: OrgId;
  readonly rateLimits: readonly RateLimit[];
  readonly credits: KeyCredits | null;
}

/** One window after a verification: what is left in it and when it ends. */
export interface WindowReading {
  readonly name: string;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly remaining: number;
  readonly resetAtMs: number;
}

/** One window as counted now, for the key's page (`ApiKey.rateLimitUse`). */
export interface WindowUse {
  readonly name: string;
  readonly limit: number;
  readonly used: number;
  readonly resetAtMs: number;
}

/**
 * The outcome of metering one verification that passed every key check. Nothing is spent unless the
 * code is VALID; then `cost` was spent from every window and from the credits, all or nothing.
 */
export type MeterReading =
  | { readonly code: 'VALID'; readonly windows: readonly WindowReading[] | null; readonly credits: number | null }
  | {
      readonly code: 'RATE_LIMITED';
      readonly windows: readonly WindowReading[];
      /** The windows `cost` would overflow. */
      readonly exceeded: readonly string[];
      readonly retryAfterSeconds: number;
      readonly credits: number | null;
    }
  | { readonly code: 'USAGE_EXCEEDED'; readonly windows: readonly WindowReading[] | null; readonly credits: number };

export type CreditsChange = { readonly op: 'set' | 'increment' | 'decrement'; readonly amount: number };

/**
 * Where spent credits go to be written with the usage flush: the key, the credits version and refill
 * period they were spent under, and how much.
 */
export type CreditSpendSink = (key: MeteredKey, version: number, period: number, amount: number) => void;

/**
 * Counts rate-limit windows and spends credits on the verification path, in memory: in process, or
 * shared by instances through Redis (`@keyward/redis`). Never a database write per verification:
 * spent credits reach the store through the usage flush (`CreditSpendSink`).
 */
export interface KeyMeter {
  /** Checks `cost` against every window and the credits and spends it if all allow (see `MeterReading`). */
  spend(key: MeteredKey, cost: number, nowMs: number): MeterReading | Promise<MeterReading>;
  /** Each limit's current window, per key (keys without limits are left out). */
  use(keys: readonly MeteredKey[], nowMs: number): Promise<Map<KeyId, WindowUse[]>>;
  /**
   * An administrator's change, atomically against concurrent spending: the new remaining, or null when
   * a decrement would go below zero (nothing changes). `key.credits` is as stored now; the change
   * takes `version` as the credits' new version.
   */
  changeCredits(key: MeteredKey & { readonly credits: KeyCredits }, change: CreditsChange, version: number, nowMs: number): Promise<number | null>;
  /** Null while counting works as configured; else what is wrong (for logs and `/readyz`). */
  readonly degraded: string | null;
}

/** Whether verifying this key involves the meter at all. */
export function isMetered(key: Pick<MeteredKey, 'rateLimits' | 'credits'>): boolean {
  return key.rateLimits.length > 0 || key.credits !== null;
}
