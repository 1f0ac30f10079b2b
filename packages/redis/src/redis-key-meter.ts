import {
  LocalKeyMeter,
  creditPeriod,
  creditsRemainingAt,
  windowStartMs,
  CREDITS_MAX,
  type CreditSpendSink,
  type CreditsChange,
  type KeyCredits,
  type KeyId,
  type KeyMeter,
  type MeterReading,
  type MeteredKey,
  type WindowReading,
  type WindowUse,
} from '@keyward/core';
import type { Redis } from 'ioredis';

/**
 * Checks every window and the credits, then spends `cost` from all of them or from none, in one
 * atomic step. KEYS: the windows' counters, then the credits' hash (when the key has credits).
 * ARGV: cost, the number of windows, per window its limit and the ms its counter lives; then
 * 1 or 0 (credits), the stored credits' version, refill period and remaining, the refill amount (-1:
 * none), the hash's lifetime in seconds. A hash with an older version starts over from the stored
 * credits; a newer refill period starts over from the refill. Replies: 0 (spent), 1 (a window is
 * full) or 2 (too few credits); each window's count before; the credits left, their version, period.
 */
const SPEND = `
local cost = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local used = {}
local limited = 0
for i = 1, n do
  local u = tonumber(redis.call('GET', KEYS[i]) or '0')
  used[i] = u
  if u + cost > tonumber(ARGV[1 + 2 * i]) then limited = 1 end
end
local b = 3 + 2 * n
local remaining, version, period = -1, -1, -1
local credits = nil
if ARGV[b] == '1' then
  credits = KEYS[n + 1]
  local v0, p0, r0, refill = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4])
  local state = redis.call('HMGET', credits, 'v', 'p', 'r')
  version, period, remaining = tonumber(state[1]), tonumber(state[2]), tonumber(state[3])
  if version == nil or version < v0 then
    version, period, remaining = v0, p0, r0
  elseif refill >= 0 and period < p0 then
    period, remaining = p0, refill
  end
end
local code = 0
if limited == 1 then
  code = 1
elseif credits and remaining < cost then
  code = 2
end
if code == 0 then
  for i = 1, n do
    redis.call('INCRBY', KEYS[i], cost)
    redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 + 2 * i]))
  end
  if credits then remaining = remaining - cost end
end
if credits then
  redis.call('HSET', credits, 'v', tostring(version), 'p', tostring(period), 'r', tostring(remaining))
  redis.call('EXPIRE', credits, tonumber(ARGV[b + 5]))
end
local reply = { code }
for i = 1, n do reply[#reply + 1] = used[i] end
reply[#reply + 1] = remaining
reply[#reply + 1] = tostring(version)
reply[#reply + 1] = period
return reply
`;

/**
 * An administrator's change of the credits. KEYS: the credits' hash. ARGV: op, amount, the new
 * version, the stored version, period and remaining, the refill amount (-1: none), the hash's
 * lifetime, the most credits a key may hold. Replies the new remaining, or -1 when a decrement
 * would go below zero (nothing changes).
 */
const CHANGE = `
local v0, p0, r0, refill = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local state = redis.call('HMGET', KEYS[1], 'v', 'p', 'r')
local version, period, remaining = tonumber(state[1]), tonumber(state[2]), tonumber(state[3])
if version == nil or version < v0 then
  version, period, remaining = v0, p0, r0
elseif refill >= 0 and period < p0 then
  period, remaining = p0, refill
end
local op, amount = ARGV[1], tonumber(ARGV[2])
local after
if op == 'set' then
  after = amount
elseif op == 'increment' then
  after = math.min(remaining + amount, tonumber(ARGV[9]))
else
  if remaining < amount then return -1 end
  after = remaining - amount
end
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'p', tostring(period), 'r', tostring(after))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[8]))
return after
`;

/** How long a credits hash outlives its key's last use: then it starts again from the store. */
const CREDITS_TTL_SECONDS = 7 * 86_400;
/** After Redis failed, how long this instance counts alone before it asks Redis again. */
const RETRY_AFTER_FAILURE_MS = 1_000;

type MeterClient = Redis & {
  keywardMeterSpend(numberOfKeys: number, ...args: (string | number)[]): Promise<(number | string)[]>;
  keywardMeterChange(numberOfKeys: number, ...args: (string | number)[]): Promise<number>;
};

export interface RedisKeyMeterOptions {
  readonly client: Redis;
  /** Prefix of every Redis key (the deployment's `KEYWARD_REDIS_PREFIX`). */
  readonly prefix: string;
  readonly spent: CreditSpendSink;
  readonly onExhausted?: (key: MeteredKey) => void;
  /** Told when counting falls back to this instance alone (with the error) and when Redis is back (null). */
  readonly onDegraded?: (err: unknown) => void;
}

/**
 * Rate limits and credits shared by every instance through Redis: one atomic script per verification
 * checks each window and the credits and spends from all or none, so N concurrent verifications
 * against a limit accept exactly the limit whichever instances they reach (ioredis pipelines the
 * calls of one event-loop turn). Windows are keyed by their start, on the instances' clocks.
 * Spent credits are written to the store by each instance's usage flush, as in process.
 *
 * While Redis cannot answer, each instance counts alone (an in-process meter), says so through
 * `degraded` (`/readyz`) and its log, and tries Redis again a second later: never an error.
 */
export class RedisKeyMeter implements KeyMeter {
  private readonly local: LocalKeyMeter;
  private readonly client: MeterClient;
  private failedAtMs = -Infinity;
  private failure: string | null = null;

  constructor(private readonly options: RedisKeyMeterOptions) {
    this.local = new LocalKeyMeter({ spent: options.spent, ...(options.onExhausted ? { onExhausted: options.onExhausted } : {}) });
    const client = options.client as MeterClient;
    if (typeof client.keywardMeterSpend !== 'function') {
      client.defineCommand('keywardMeterSpend', { lua: SPEND });
      client.defineCommand('keywardMeterChange', { lua: CHANGE });
    }
    this.client = client;
  }

  get degraded(): string | null {
    return this.failure;
  }

  spend(key: MeteredKey, cost: number, nowMs: number): MeterReading | Promise<MeterReading> {
    if (this.alone()) return this.local.spend(key, cost, nowMs);
    const keys: string[] = [];
    const args: (string | number)[] = [cost, key.rateLimits.length];
    for (const limit of key.rateLimits) {
      const start = windowStartMs(limit.windowSeconds, nowMs);
      keys.push(this.windowKey(key.id, limit.name, limit.windowSeconds, start));
      args.push(limit.limit, start + limit.windowSeconds * 1000 - nowMs + 1_000);
    }
    const credits = key.credits;
    if (credits) {
      keys.push(this.creditsKey(key.id));
      args.push(1, ...this.storedCredits(credits, nowMs), CREDITS_TTL_SECONDS);
    } else args.push(0);
    return this.client.keywardMeterSpend(keys.length, ...keys, ...args).then(
      (reply) => {
        this.recovered();
        return this.reading(key, cost, nowMs, reply);
      },
      (err: unknown) => {
        this.failed(err);
        return this.local.spend(key, cost, nowMs);
      },
    );
  }

  async use(keys: readonly MeteredKey[], nowMs: number): Promise<Map<KeyId, WindowUse[]>> {
    const limited = keys.filter((key) => key.rateLimits.length > 0);
    if (limited.length === 0 || this.alone()) return this.local.use(keys, nowMs);
    const names: string[] = [];
    for (const key of limited) {
      for (const limit of key.rateLimits) names.push(this.windowKey(key.id, limit.name, limit.windowSeconds, windowStartMs(limit.windowSeconds, nowMs)));
    }
    let counts: (string | null)[];
    try {
      counts = await this.client.mget(names);
      this.recovered();
    } catch (err) {
      this.failed(err);
      return this.local.use(keys, nowMs);
    }
    const result = new Map<KeyId, WindowUse[]>();
    let i = 0;
    for (const key of limited) {
      result.set(
        key.id,
        key.rateLimits.map((limit) => {
          const start = windowStartMs(limit.windowSeconds, nowMs);
          return { name: limit.name, limit: limit.limit, used: Number(counts[i++] ?? 0), resetAtMs: start + limit.windowSeconds * 1000 };
        }),
      );
    }
    return result;
  }

  async changeCredits(key: MeteredKey & { readonly credits: KeyCredits }, change: CreditsChange, version: number, nowMs: number): Promise<number | null> {
    // A change while Redis is away is made where this instance counts; Redis starts over from the store.
    if (this.alone()) return this.local.changeCredits(key, change, version, nowMs);
    let after: number;
    try {
      after = Number(
        await this.client.keywardMeterChange(1, this.creditsKey(key.id), change.op, change.amount, version, ...this.storedCredits(key.credits, nowMs), CREDITS_TTL_SECONDS, CREDITS_MAX),
      );
      this.recovered();
    } catch (err) {
      this.failed(err);
      return this.local.changeCredits(key, change, version, nowMs);
    }
    if (after < 0) return null;
    // This instance's own ledger follows, in case Redis goes away later.
    await this.local.changeCredits(key, { op: 'set', amount: after }, version, nowMs);
    return after;
  }

  /** The stored credits as the scripts take them: version, refill period now, remaining now, refill amount. */
  private storedCredits(credits: KeyCredits, nowMs: number): (string | number)[] {
    const period = Math.max(credits.period, creditPeriod(credits.refill, nowMs));
    return [String(credits.version), period, creditsRemainingAt(credits, nowMs), credits.refill ? credits.refill.amount : -1];
  }

  private reading(key: MeteredKey, cost: number, nowMs: number, reply: (number | string)[]): MeterReading {
    const code = Number(reply[0]);
    const n = key.rateLimits.length;
    const credits = key.credits ? Number(reply[n + 1]) : null;
    const spentNow = code === 0 ? cost : 0;
    const windows: WindowReading[] = key.rateLimits.map((limit, i) => {
      const start = windowStartMs(limit.windowSeconds, nowMs);
      return { name: limit.name, limit: limit.limit, windowSeconds: limit.windowSeconds, remaining: Math.max(0, limit.limit - Number(reply[i + 1]) - spentNow), resetAtMs: start + limit.windowSeconds * 1000 };
    });
    if (code === 1) {
      const exceeded: string[] = [];
      let retryAfterMs = 0;
      key.rateLimits.forEach((limit, i) => {
        if (Number(reply[i + 1]) + cost > limit.limit) {
          exceeded.push(limit.name);
          retryAfterMs = Math.max(retryAfterMs, windows[i]!.resetAtMs - nowMs);
        }
      });
      return { code: 'RATE_LIMITED', windows, exceeded, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)), credits };
    }
    if (code === 2) return { code: 'USAGE_EXCEEDED', windows: n ? windows : null, credits: credits! };
    if (credits !== null && cost > 0) {
      this.options.spent(key, Number(reply[n + 2]), Number(reply[n + 3]), cost);
      if (credits === 0) this.options.onExhausted?.(key);
    }
    return { code: 'VALID', windows: n ? windows : null, credits };
  }

  /** Whether this instance counts alone for now: Redis failed less than a second ago. */
  private alone(): boolean {
    return this.failure !== null && Date.now() - this.failedAtMs < RETRY_AFTER_FAILURE_MS;
  }

  private failed(err: unknown): void {
    if (this.failure === null) this.options.onDegraded?.(err);
    this.failure = `Redis cannot answer (${err instanceof Error ? err.message : String(err)}): rate limits and credits are counted by each instance alone`;
    this.failedAtMs = Date.now();
  }

  private recovered(): void {
    if (this.failure === null) return;
    this.failure = null;
    this.options.onDegraded?.(null);
  }

  private windowKey(keyId: KeyId, name: string, windowSeconds: number, start: number): string {
    // One hash slot per key ({id}), so that one script's keys live together in a Redis Cluster.
    return `${this.options.prefix}:limits:{${keyId}}:${name}:${windowSeconds}:${start}`;
  }

  private creditsKey(keyId: KeyId): string {
    return `${this.options.prefix}:limits:{${keyId}}:credits`;
  }
}
