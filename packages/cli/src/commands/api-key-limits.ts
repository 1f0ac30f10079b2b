import type { Command } from 'commander';
import type { ApiKey, Credits, CreditsRefill, RateLimit } from '@keyward/wire';
import { usageError } from '../cli-error.js';
import { unitMs } from '../durations.js';
import { collect } from './common.js';

/** The rate-limit and credits flags of `api-key create` (and, with the edit ones, `api-key edit`). */
export interface LimitOptions {
  readonly rateLimit?: string[];
  readonly credits?: string;
  /** A `N/day` or `N/month` text; false from --no-refill (edit). */
  readonly refill?: string | false;
  /** False from --no-rate-limits (edit). */
  readonly rateLimits?: boolean;
  readonly unlimitedCredits?: boolean;
}

const maxUnits = 1_000_000_000;
const rateLimitForm = 'NAME=LIMIT/WINDOW, e.g. requests=100/1m, burst=10/1s or daily=1000/1d (NAME: 1 to 32 of a-z, 0-9, _ and -; WINDOW: a number with s, m, h or d, or plain seconds, from 1s to 1d)';

export function withLimitFlags(command: Command): Command {
  return command
    .option('--rate-limit <name=limit/window>', 'a rate limit, e.g. requests=100/1m or daily=1000/1d (repeatable, up to 5)', collect)
    .option('--credits <n>', 'owners and admins: the number of verifications (units of cost) the key may spend; without it, unlimited')
    .option('--refill <n/interval>', 'with --credits: set the credits back to N at 00:00 UTC each day (N/day) or on the 1st of each month (N/month)');
}

export function withLimitEditFlags(command: Command): Command {
  return command
    .option('--no-rate-limits', 'remove every rate limit')
    .option('--no-refill', 'with --credits: no refill')
    .option('--unlimited-credits', 'remove the credits: the key may be verified without a count');
}

/** `requests=100/1m` as the API's `{name, limit, windowSeconds}`; a usage error naming the flag otherwise. */
export function parseRateLimit(text: string): RateLimit {
  const match = /^([a-z0-9_-]{1,32})=(\d+)\/(\d+)([smhd]?)$/.exec(text.trim());
  const refuse = (why: string) => usageError(`--rate-limit takes ${rateLimitForm}; "${text}" ${why}.`);
  if (!match) throw refuse('is not of that form');
  const [, name, limitText, windowText, unit] = match as unknown as [string, string, string, string, string];
  const limit = Number(limitText);
  if (limit < 1 || limit > maxUnits) throw refuse('has a limit outside 1 to 1,000,000,000');
  const windowSeconds = (Number(windowText) * unitMs[unit || 's']!) / 1000;
  if (windowSeconds < 1 || windowSeconds > 86_400) throw refuse('has a window outside 1 second to 1 day');
  return { name, limit, windowSeconds };
}

/** A whole number of credits, 0 to 1,000,000,000, for `flag`. */
export function parseCreditAmount(text: string, flag: string, minimum = 0): number {
  const amount = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(amount >= minimum && amount <= maxUnits)) {
    throw usageError(`${flag} takes a whole number from ${minimum} to 1,000,000,000, not "${text}".`);
  }
  return amount;
}

/** `1000/month` as the API's refill. */
export function parseRefill(text: string): CreditsRefill {
  const match = /^(\d+)\/(day|month)$/.exec(text.trim());
  if (!match) throw usageError(`--refill takes N/day or N/month, e.g. 1000/month, not "${text}".`);
  return { amount: parseCreditAmount(match[1]!, '--refill', 1), interval: match[2] as CreditsRefill['interval'] };
}

/** The rateLimits and credits a create body gets from the flags (absent when no flag names them). */
export function createLimits(options: LimitOptions): { rateLimits?: RateLimit[]; credits?: Credits } {
  const limits: { rateLimits?: RateLimit[]; credits?: Credits } = {};
  if (options.rateLimit?.length) limits.rateLimits = options.rateLimit.map(parseRateLimit);
  if (typeof options.refill === 'string' && options.credits === undefined) throw usageError('--refill needs --credits: the credits the key starts with.');
  if (options.credits !== undefined) {
    limits.credits = { remaining: parseCreditAmount(options.credits, '--credits'), refill: typeof options.refill === 'string' ? parseRefill(options.refill) : null };
  }
  return limits;
}

/**
 * The rateLimits and credits a PATCH body gets from the flags. The flags are read at once (a bad one
 * is a usage error before any request); the answer completes the body from the key as read.
 * `--credits` alone keeps the key's refill (a refill is a setting, not a count); `--refill` or
 * `--no-refill` changes it.
 */
export function updateLimits(options: LimitOptions): (key: ApiKey) => { rateLimits?: RateLimit[]; credits?: Credits | null } {
  const limits: { rateLimits?: RateLimit[]; credits?: Credits | null } = {};
  if (options.rateLimit?.length && options.rateLimits === false) throw usageError('Give either --rate-limit or --no-rate-limits.');
  if (options.rateLimit?.length) limits.rateLimits = options.rateLimit.map(parseRateLimit);
  if (options.rateLimits === false) limits.rateLimits = [];
  const refillFlag = options.refill !== undefined;
  if (options.unlimitedCredits && (options.credits !== undefined || refillFlag)) throw usageError('Give either --unlimited-credits or --credits (with --refill or --no-refill).');
  if (options.unlimitedCredits) limits.credits = null;
  if (refillFlag && options.credits === undefined) {
    throw usageError(`${options.refill === false ? '--no-refill' : '--refill'} needs --credits: the credits the key has from now on.`, 'To add or take away credits and keep the refill: keyward api-key credits ID add|remove N');
  }
  if (options.credits === undefined) return () => limits;
  const remaining = parseCreditAmount(options.credits, '--credits');
  const refill = typeof options.refill === 'string' ? parseRefill(options.refill) : options.refill === false ? null : undefined;
  return (key) => ({ ...limits, credits: { remaining, refill: refill === undefined ? (key.credits?.refill ?? null) : refill } });
}
