import type { RateLimiter } from '@keyward/core';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * A fixed-window counter shared by every instance through Redis (atomic increments). When Redis
 * cannot answer, an in-memory insurance limiter with the same window counts per instance (R49):
 * degraded, never unlimited.
 */
export function createRedisRateLimiter(options: { client: Redis; prefix: string; points: number; durationSeconds: number }): RateLimiter {
  const insurance = new RateLimiterMemory({ points: options.points, duration: options.durationSeconds });
  const limiter = new RateLimiterRedis({
    storeClient: options.client,
    keyPrefix: options.prefix,
    points: options.points,
    duration: options.durationSeconds,
    insuranceLimiter: insurance,
    rejectIfRedisNotReady: true,
  });
  return {
    async check(key) {
      const res = await limiter.get(key).catch(() => insurance.get(key));
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
