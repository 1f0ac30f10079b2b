/**
 * Per-key rate limits and credits (issue 14): what a key carries, and the calendar arithmetic both
 * meters (in process and in Redis) share. Windows are fixed and aligned on multiples of their length
 * since the Unix epoch; credit refills happen at the start of each UTC day or month.
 */

export const RATE_LIMITS_PER_KEY = 5;
export const RATE_LIMIT_MAX = 1_000_000_000;
export const WINDOW_SECONDS_MAX = 86_400;
export const CREDITS_MAX = 1_000_000_000;
export const COST_MAX = 1_000_000;

export interface RateLimit {
  readonly name: string;
  readonly limit: number;
  readonly windowSeconds: number;
}

export type RefillInterval = 'day' | 'month';

export interface CreditsRefill {
  readonly amount: number;
  readonly interval: RefillInterval;
}

/**
 * A key's credits as stored. `version` changes whenever an administrator sets or changes them (so that
 * spending counted under an older version is not written over the new amount); `period` is the refill
 * period `remaining` belongs to (`creditPeriod`; 0 without a refill).
 */
export interface KeyCredits {
  readonly remaining: number;
  readonly refill: CreditsRefill | null;
  readonly version: number;
  readonly period: number;
}

/** The refill period an instant falls in: days or months since the epoch (UTC); 0 without a refill. */
export function creditPeriod(refill: CreditsRefill | null, atMs: number): number {
  if (!refill) return 0;
  if (refill.interval === 'day') return Math.floor(atMs / 86_400_000);
  const at = new Date(atMs);
  return (at.getUTCFullYear() - 1970) * 12 + at.getUTCMonth();
}

/** When the period after `period` starts, in ms since the epoch. */
export function nextRefillMs(refill: CreditsRefill, period: number): number {
  if (refill.interval === 'day') return (period + 1) * 86_400_000;
  const next = period + 1;
  return Date.UTC(1970 + Math.floor(next / 12), next % 12, 1);
}

/** What is left at `atMs`: a refill period that has begun since `period` starts again from its amount. */
export function creditsRemainingAt(credits: Pick<KeyCredits, 'remaining' | 'refill' | 'period'>, atMs: number): number {
  if (credits.refill && creditPeriod(credits.refill, atMs) > credits.period) return credits.refill.amount;
  return credits.remaining;
}

/** The start of the window `atMs` falls in, in ms since the epoch. */
export function windowStartMs(windowSeconds: number, atMs: number): number {
  const length = windowSeconds * 1000;
  return atMs - (atMs % length);
}

/** Problems with a list of rate limits as a caller gave it (the API checks the same with its schema). */
export function rateLimitProblems(limits: readonly RateLimit[]): string[] {
  const problems: string[] = [];
  if (limits.length > RATE_LIMITS_PER_KEY) problems.push(`at most ${RATE_LIMITS_PER_KEY} rate limits per key`);
  const names = new Set<string>();
  for (const limit of limits) {
    if (!/^[a-z0-9_-]{1,32}$/.test(limit.name)) problems.push(`"${limit.name}" is not a limit name (1 to 32 of a-z, 0-9, _ and -)`);
    if (names.has(limit.name)) problems.push(`"${limit.name}" is named twice`);
    names.add(limit.name);
    if (!Number.isInteger(limit.limit) || limit.limit < 1 || limit.limit > RATE_LIMIT_MAX) problems.push(`the limit of "${limit.name}" must be a whole number from 1 to ${RATE_LIMIT_MAX}`);
    if (!Number.isInteger(limit.windowSeconds) || limit.windowSeconds < 1 || limit.windowSeconds > WINDOW_SECONDS_MAX) {
      problems.push(`the window of "${limit.name}" must be a whole number of seconds from 1 to ${WINDOW_SECONDS_MAX}`);
    }
  }
  return problems;
}

/** Describes a window for people: "100 per minute", "5 per 10 seconds". */
export function describeLimit(limit: RateLimit): string {
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  for (const [seconds, unit] of units) {
    if (limit.windowSeconds % seconds === 0) {
      const count = limit.windowSeconds / seconds;
      return `${limit.limit} per ${count === 1 ? unit : `${count} ${unit}s`}`;
    }
  }
  return `${limit.limit} per ${limit.windowSeconds} seconds`;
}
