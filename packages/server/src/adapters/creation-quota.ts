import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** The answer to taking one unit of a quota: granted (with a way to give it back), or refused. */
export type QuotaTaken =
  | { readonly granted: true; giveBack(): Promise<void> }
  | { readonly granted: false; readonly retryAfterSeconds: number };

/**
 * A number of creations per subject per minute, in a fixed window (R46: key creations per person).
 * Unlike a failure counter, a unit is taken before the work, in one atomic step, so that concurrent
 * requests never get more than the quota between them; work that fails gives its unit back.
 */
export interface CreationQuota {
  take(subject: string): Promise<QuotaTaken>;
}

/**
 * In this process, or shared by every instance through Redis (atomic increments), with an in-memory
 * insurance limiter of the same size while Redis cannot answer (R49: degraded, never unlimited).
 */
export function createCreationQuota(options: { perMinute: number; redis?: { client: Redis; prefix: string } | null }): CreationQuota {
  const durationSeconds = 60;
  const memory = new RateLimiterMemory({ points: options.perMinute, duration: durationSeconds });
  const limiter: RateLimiterAbstract = options.redis
    ? new RateLimiterRedis({
        storeClient: options.redis.client,
        keyPrefix: options.redis.prefix,
        points: options.perMinute,
        duration: durationSeconds,
        insuranceLimiter: memory,
        rejectIfRedisNotReady: true,
      })
    : memory;
  // Only within the window it was taken in: given back later, it would lend the next window a unit.
  const giveBackBefore = (subject: string, windowEndsAt: number) => async () => {
    if (Date.now() < windowEndsAt) await limiter.reward(subject, 1);
  };
  return {
    async take(subject) {
      try {
        const res = await limiter.consume(subject, 1);
        return { granted: true, giveBack: giveBackBefore(subject, Date.now() + res.msBeforeNext) };
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        // The refused attempt was counted too; uncount it, so the window holds exactly what was granted.
        await limiter.reward(subject, 1);
        return { granted: false, retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
      }
    },
  };
}
