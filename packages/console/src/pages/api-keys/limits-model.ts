import type { ApiKey, Credits, RateLimit } from '@keyward/wire';

/**
 * The Limits section of the key dialogs (issue 14): rate limits as rows with a window in a unit, and
 * credits with an optional refill. The checks mirror the API's (CONTRACT.md "Per-key rate limits and
 * credits"), so most mistakes are shown before a request is made; the server's 422 reasons land on the
 * same fields through `mapLimitErrors`.
 */

export const RATE_LIMITS_MAX = 5;
export const LIMIT_MAX = 1_000_000_000;
export const WINDOW_MAX_SECONDS = 86_400;
export const CREDITS_MAX = 1_000_000_000;

export const windowUnits = [
  { id: 'seconds', label: 'seconds', one: 'second', seconds: 1 },
  { id: 'minutes', label: 'minutes', one: 'minute', seconds: 60 },
  { id: 'hours', label: 'hours', one: 'hour', seconds: 3600 },
  { id: 'days', label: 'days', one: 'day', seconds: 86_400 },
] as const;
export type WindowUnit = (typeof windowUnits)[number]['id'];

export interface RateLimitRow {
  readonly id: number;
  readonly name: string;
  readonly limit: string;
  readonly windowAmount: string;
  readonly windowUnit: WindowUnit;
}

export interface CreditsState {
  readonly mode: 'unlimited' | 'limited';
  readonly remaining: string;
  readonly refill: 'none' | 'day' | 'month';
  readonly refillAmount: string;
}

export const unlimitedCredits: CreditsState = { mode: 'unlimited', remaining: '', refill: 'none', refillAmount: '' };

const NAME_PATTERN = /^[a-z0-9_-]{1,32}$/;

/** The largest unit that divides the window evenly: 120 s is "2 minutes", 90 s stays "90 seconds". */
export function splitWindow(windowSeconds: number): { amount: number; unit: WindowUnit } {
  for (const unit of [...windowUnits].reverse()) {
    if (windowSeconds % unit.seconds === 0) return { amount: windowSeconds / unit.seconds, unit: unit.id };
  }
  return { amount: windowSeconds, unit: 'seconds' };
}

export function rowFromLimit(id: number, limit: RateLimit): RateLimitRow {
  const { amount, unit } = splitWindow(limit.windowSeconds);
  return { id, name: limit.name, limit: String(limit.limit), windowAmount: String(amount), windowUnit: unit };
}

export function creditsStateOf(credits: Credits | null): CreditsState {
  if (!credits) return unlimitedCredits;
  return {
    mode: 'limited',
    remaining: String(credits.remaining),
    refill: credits.refill?.interval ?? 'none',
    refillAmount: credits.refill ? String(credits.refill.amount) : '',
  };
}

/** A whole number typed in a field, or null when it is not one. */
function wholeNumber(text: string): number | null {
  const trimmed = text.trim().replace(/[,_\s]/g, '');
  return /^\d+$/.test(trimmed) ? Number(trimmed) : null;
}

export function windowSecondsOf(row: RateLimitRow): number | null {
  const amount = wholeNumber(row.windowAmount);
  const unit = windowUnits.find((u) => u.id === row.windowUnit)!;
  return amount === null ? null : amount * unit.seconds;
}

/** Client-side checks of the limits and credits, keyed by row (`limit:<id>:name`) and field. */
export function validateLimits(rows: readonly RateLimitRow[], credits: CreditsState): Record<string, string> {
  const errors: Record<string, string> = {};
  if (rows.length > RATE_LIMITS_MAX) errors.rateLimits = `A key has at most ${RATE_LIMITS_MAX} rate limits.`;
  const names = new Map<string, number>();
  for (const row of rows) names.set(row.name.trim(), (names.get(row.name.trim()) ?? 0) + 1);
  for (const row of rows) {
    const name = row.name.trim();
    if (!name) errors[`limit:${row.id}:name`] = 'Name the limit, such as "per_minute".';
    else if (!NAME_PATTERN.test(name)) errors[`limit:${row.id}:name`] = 'Use 1 to 32 of a–z, 0–9, "_" and "-" (lowercase, no spaces).';
    else if ((names.get(name) ?? 0) > 1) errors[`limit:${row.id}:name`] = 'Another limit has this name: each needs its own.';
    const limit = wholeNumber(row.limit);
    if (limit === null || limit < 1 || limit > LIMIT_MAX) errors[`limit:${row.id}:limit`] = 'Requests: a whole number from 1 to 1,000,000,000.';
    const seconds = windowSecondsOf(row);
    if (seconds === null || seconds < 1) errors[`limit:${row.id}:window`] = 'Window: a whole number, at least 1 second.';
    else if (seconds > WINDOW_MAX_SECONDS) errors[`limit:${row.id}:window`] = 'Window: at most 1 day (86,400 seconds).';
  }
  if (credits.mode === 'limited') {
    const remaining = wholeNumber(credits.remaining);
    if (remaining === null || remaining > CREDITS_MAX) errors.creditsRemaining = 'A whole number from 0 to 1,000,000,000.';
    if (credits.refill !== 'none') {
      const amount = wholeNumber(credits.refillAmount);
      if (amount === null || amount < 1 || amount > CREDITS_MAX) errors.refillAmount = 'A whole number from 1 to 1,000,000,000.';
    }
  }
  return errors;
}

/** The rows as the API takes them (valid rows only: the form checks before it sends). */
export function rateLimitsOf(rows: readonly RateLimitRow[]): RateLimit[] {
  return rows.map((row) => ({ name: row.name.trim(), limit: wholeNumber(row.limit) ?? 0, windowSeconds: windowSecondsOf(row) ?? 0 }));
}

export function creditsOf(credits: CreditsState): Credits | null {
  if (credits.mode === 'unlimited') return null;
  return {
    remaining: wholeNumber(credits.remaining) ?? 0,
    refill: credits.refill === 'none' ? null : { amount: wholeNumber(credits.refillAmount) ?? 0, interval: credits.refill },
  };
}

/**
 * A server reason about limits or credits (`rateLimits[1].name`, `credits.refill.amount`) as the key of
 * the field it is about, or null when the path is about something else.
 */
export function limitErrorKey(rows: readonly RateLimitRow[], path: string): string | null {
  const row = /^rateLimits\[(\d+)\](?:\.(\w+))?/.exec(path);
  if (row) {
    const target = rows[Number(row[1])];
    if (!target) return 'rateLimits';
    const field = row[2] === 'windowSeconds' ? 'window' : row[2] === 'limit' ? 'limit' : 'name';
    return `limit:${target.id}:${field}`;
  }
  if (path.startsWith('rateLimits')) return 'rateLimits';
  if (path.startsWith('credits.refill')) return 'refillAmount';
  if (path.startsWith('credits.remaining')) return 'creditsRemaining';
  if (path.startsWith('credits')) return 'credits';
  return null;
}

/** "per minute", "per 10 minutes", "per 90 seconds". */
export function describeWindow(windowSeconds: number): string {
  const { amount, unit } = splitWindow(windowSeconds);
  const names = windowUnits.find((u) => u.id === unit)!;
  return amount === 1 ? `per ${names.one}` : `per ${amount} ${names.label}`;
}

/** "this minute", "this 10-minute window", "today (UTC)". */
export function currentWindowPhrase(windowSeconds: number): string {
  const { amount, unit } = splitWindow(windowSeconds);
  const names = windowUnits.find((u) => u.id === unit)!;
  if (amount === 1) return unit === 'days' ? 'today (UTC)' : `this ${names.one}`;
  return `this ${amount}-${names.one} window`;
}

/** The share of a limit used in its current window that earns a "near its limit" hint. */
export const NEAR_LIMIT_SHARE = 0.8;

/** The limits whose current window is at least 80% used, for the list's hint. */
export function limitsNearFull(key: Pick<ApiKey, 'rateLimitUse'>, now = Date.now()): string[] {
  return key.rateLimitUse.filter((use) => new Date(use.resetAt).getTime() > now && use.used >= use.limit * NEAR_LIMIT_SHARE).map((use) => use.name);
}
