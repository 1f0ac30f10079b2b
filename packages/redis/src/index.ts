export { createRedisCacheBus, type RedisCacheBusOptions } from './redis-cache-bus.js';
export { createRedisRateLimiter } from './redis-rate-limiter.js';
export { RedisKeyMeter, type RedisKeyMeterOptions } from './redis-key-meter.js';
