import type { RateLimiter } from '@keyward/core';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/** A fixed-window counter per key, in this process (rate-limiter-flexible's memory limiter). */
export function createMemoryRateLimiter(options: { points: number; durationSeconds: number }): RateLimiter {
  const limiter = new RateLimiterMemory({ points: options.points, duration: options.durationSeconds });
  return {
    async check(key) {
      const res = await limiter.get(key);
      if (!res || res.consumedPoints < options.points) return { limited: false, retryAfterSeconds: 0 };
      return { limited: true, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
    },
    async hit(key) {
      try {
        await limiter.consume(key, 1);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
      }
    },
  };
}
