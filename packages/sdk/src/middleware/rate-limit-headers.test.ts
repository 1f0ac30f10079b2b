import { describe, expect, it } from 'vitest';
import { rateLimitHeaders, type VerdictRateLimit } from './rate-limit-headers.js';

const now = Date.parse('2026-12-07T00:00:00.000Z');
const at = (seconds: number) => new Date(now + seconds * 1000).toISOString();

describe('rateLimitHeaders', () => {
  it('gives no headers for a key without rate limits', () => {
    expect(rateLimitHeaders(undefined, now)).toEqual({});
    expect(rateLimitHeaders([], now)).toEqual({});
  });

  it('lists every window in RateLimit-Policy and gives the one with the least remaining in RateLimit and the older fields', () => {
    const windows: VerdictRateLimit[] = [
      { name: 'burst', limit: 10, windowSeconds: 1, remaining: 9, resetAt: at(1) },
      { name: 'hourly', limit: 1000, windowSeconds: 3600, remaining: 4, resetAt: at(1800) },
      { name: 'daily', limit: 5000, windowSeconds: 86_400, remaining: 4000, resetAt: at(40_000) },
    ];
    expect(rateLimitHeaders(windows, now)).toEqual({
      'ratelimit-policy': '"burst";q=10;w=1, "hourly";q=1000;w=3600, "daily";q=5000;w=86400',
      ratelimit: '"hourly";r=4;t=1800',
      'ratelimit-limit': '1000',
      'ratelimit-remaining': '4',
      'ratelimit-reset': '1800',
    });
  });

  it('breaks a tie of remaining by the soonest reset', () => {
    const windows: VerdictRateLimit[] = [
      { name: 'minute', limit: 5, windowSeconds: 60, remaining: 0, resetAt: at(45) },
      { name: 'second', limit: 2, windowSeconds: 1, remaining: 0, resetAt: at(0.3) },
    ];
    expect(rateLimitHeaders(windows, now).ratelimit).toBe('"second";r=0;t=1');
  });

  it('rounds the seconds to reset up, and never below 0 or a negative remainder', () => {
    const headers = rateLimitHeaders([{ name: 'm', limit: 3, windowSeconds: 60, remaining: -2, resetAt: at(-0.5) }], now);
    expect(headers.ratelimit).toBe('"m";r=0;t=0');
    expect(headers['ratelimit-reset']).toBe('0');
    expect(rateLimitHeaders([{ name: 'm', limit: 3, windowSeconds: 60, remaining: 1, resetAt: at(59.001) }], now)['ratelimit-reset']).toBe('60');
  });

  it("escapes a name's quotes and backslashes and drops what a header cannot hold", () => {
    const headers = rateLimitHeaders([{ name: 'a"b\\c\nd', limit: 1, windowSeconds: 1, remaining: 1, resetAt: at(1) }], now);
    expect(headers['ratelimit-policy']).toBe('"a\\"b\\\\cd";q=1;w=1');
  });
});
