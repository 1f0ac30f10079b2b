import { describe, expect, it } from 'vitest';
import type { ApiKey } from '@keyward/wire';
import { CliError } from '../cli-error.js';
import { createLimits, parseRateLimit, updateLimits } from './api-key-limits.js';
import { creditsText, rateLimitLines, windowWords } from './api-key-view.js';

const usageErrorOf = (attempt: () => unknown): CliError => {
  try {
    attempt();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    return err as CliError;
  }
  throw new Error('no error');
};

const keyWith = (fields: Partial<ApiKey>) => ({ rateLimits: [], rateLimitUse: [], credits: null, ...fields }) as ApiKey;

describe('rate-limit and credits flags', () => {
  it('reads NAME=LIMIT/WINDOW with s, m, h, d or plain seconds', () => {
    expect(parseRateLimit('requests=100/1m')).toEqual({ name: 'requests', limit: 100, windowSeconds: 60 });
    expect(parseRateLimit('burst=10/1s')).toEqual({ name: 'burst', limit: 10, windowSeconds: 1 });
    expect(parseRateLimit('daily=1000/1d')).toEqual({ name: 'daily', limit: 1000, windowSeconds: 86_400 });
    expect(parseRateLimit('per_5-min=7/300')).toEqual({ name: 'per_5-min', limit: 7, windowSeconds: 300 });
    expect(parseRateLimit('h=1000000000/24h')).toEqual({ name: 'h', limit: 1_000_000_000, windowSeconds: 86_400 });
  });

  it('refuses other forms with a usage error naming the flag and the form', () => {
    for (const bad of ['requests=100', 'requests:100/1m', '100/1m', 'Requests=100/1m', 'r=0/1m', 'r=1000000001/1m', 'r=10/0s', 'r=10/2d', 'r=10/86401', 'r=10/1w', 'r=1.5/1m', `${'a'.repeat(33)}=1/1s`]) {
      const error = usageErrorOf(() => parseRateLimit(bad));
      expect(error.message, bad).toContain('--rate-limit takes NAME=LIMIT/WINDOW');
      expect(error.message, bad).toContain(`"${bad}"`);
    }
  });

  it('builds the create body: credits with an optional refill, which needs credits', () => {
    expect(createLimits({})).toEqual({});
    expect(createLimits({ rateLimit: ['a=1/1s', 'b=2/1h'], credits: '1000', refill: '1000/month' })).toEqual({
      rateLimits: [
        { name: 'a', limit: 1, windowSeconds: 1 },
        { name: 'b', limit: 2, windowSeconds: 3600 },
      ],
      credits: { remaining: 1000, refill: { amount: 1000, interval: 'month' } },
    });
    expect(createLimits({ credits: '0' })).toEqual({ credits: { remaining: 0, refill: null } });
    expect(usageErrorOf(() => createLimits({ refill: '10/day' })).message).toMatch(/--refill needs --credits/);
    expect(usageErrorOf(() => createLimits({ credits: 'many' })).message).toMatch(/--credits takes a whole number/);
    expect(usageErrorOf(() => createLimits({ credits: '5', refill: '10/week' })).message).toMatch(/--refill takes N\/day or N\/month/);
    expect(usageErrorOf(() => createLimits({ credits: '5', refill: '0/day' })).message).toMatch(/--refill takes a whole number from 1/);
  });

  it('builds the PATCH body: --credits keeps the refill unless --refill or --no-refill says otherwise', () => {
    const key = keyWith({ credits: { remaining: 3, refill: { amount: 50, interval: 'day' } } });
    expect(updateLimits({ credits: '10' })(key)).toEqual({ credits: { remaining: 10, refill: { amount: 50, interval: 'day' } } });
    expect(updateLimits({ credits: '10', refill: false })(key)).toEqual({ credits: { remaining: 10, refill: null } });
    expect(updateLimits({ credits: '10', refill: '9/month' })(key)).toEqual({ credits: { remaining: 10, refill: { amount: 9, interval: 'month' } } });
    expect(updateLimits({ rateLimits: false, unlimitedCredits: true })(key)).toEqual({ rateLimits: [], credits: null });
    expect(updateLimits({ rateLimits: true })(key)).toEqual({});
    expect(usageErrorOf(() => updateLimits({ refill: false })).message).toMatch(/--no-refill needs --credits/);
    expect(usageErrorOf(() => updateLimits({ credits: '1', unlimitedCredits: true })).message).toMatch(/either --unlimited-credits or --credits/);
    expect(usageErrorOf(() => updateLimits({ rateLimit: ['a=1/1s'], rateLimits: false })).message).toMatch(/either --rate-limit or --no-rate-limits/);
  });

  it('says limits and credits in words', () => {
    expect(['1', '60', '300', '90', '3600', '7200', '86400'].map((s) => windowWords(Number(s)))).toEqual(['second', 'minute', '5 minutes', '90 seconds', 'hour', '2 hours', 'day']);
    const key = keyWith({
      rateLimits: [
        { name: 'requests', limit: 100, windowSeconds: 60 },
        { name: 'daily', limit: 10_000, windowSeconds: 86_400 },
      ],
      rateLimitUse: [{ name: 'requests', limit: 100, used: 37, resetAt: '2026-12-07T12:01:00.000Z' }],
    });
    expect(rateLimitLines(key)).toEqual(['requests: 100 per minute (37 used, resets 12:01:00Z)', 'daily: 10,000 per day']);
    expect(creditsText(null)).toBe('unlimited');
    expect(creditsText({ remaining: 950, refill: { amount: 1000, interval: 'month' } })).toBe('950 left, refills to 1,000 on the 1st of each month (UTC)');
    expect(creditsText({ remaining: 5, refill: { amount: 20, interval: 'day' } })).toBe('5 left, refills to 20 at 00:00 UTC each day');
    expect(creditsText({ remaining: 1_000_000, refill: null })).toBe('1,000,000 left (no refill)');
  });
});
