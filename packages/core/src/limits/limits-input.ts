import { FieldError } from '../errors.js';
import { CREDITS_MAX, creditPeriod, rateLimitProblems, type CreditsRefill, type KeyCredits, type RateLimit } from './key-limits.js';

/** Credits as a caller gives them: an amount and an optional refill. */
export interface CreditsInput {
  readonly remaining: number;
  readonly refill?: CreditsRefill | null | undefined;
}

/** The rate limits as given, checked (422 `validation_failed` on `rateLimits` otherwise), copied plain. */
export function validateRateLimits(limits: readonly RateLimit[]): RateLimit[] {
  const problems = rateLimitProblems(limits);
  if (problems.length) throw new FieldError('rateLimits', `${problems.join('; ')}.`);
  return limits.map(({ name, limit, windowSeconds }) => ({ name, limit, windowSeconds }));
}

/**
 * Credits as given, as stored: a version newer than `previousVersion` (and than any spending counted
 * before; it is the time in ms, or one more than the previous), the refill period of `now`.
 */
export function validateCredits(input: CreditsInput | null, previousVersion: number, now: Date): KeyCredits | null {
  if (input === null) return null;
  const whole = (n: number, min: number) => Number.isInteger(n) && n >= min && n <= CREDITS_MAX;
  if (!whole(input.remaining, 0)) throw new FieldError('credits.remaining', `remaining must be a whole number from 0 to ${CREDITS_MAX}.`);
  const refill = input.refill ?? null;
  if (refill) {
    if (!whole(refill.amount, 1)) throw new FieldError('credits.refill.amount', `A refill amount must be a whole number from 1 to ${CREDITS_MAX}.`);
    if (refill.interval !== 'day' && refill.interval !== 'month') throw new FieldError('credits.refill.interval', 'A refill happens each "day" or each "month" (UTC).');
  }
  const nowMs = now.getTime();
  return {
    remaining: input.remaining,
    refill: refill ? { amount: refill.amount, interval: refill.interval } : null,
    version: Math.max(nowMs, previousVersion + 1),
    period: creditPeriod(refill, nowMs),
  };
}
