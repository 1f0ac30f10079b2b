import type { Actor } from '../auth/actor.js';
import { assertCanManageOrganization } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { FieldError } from '../errors.js';
import type { KeyId } from '../ids.js';
import { getKey } from '../keys/read-keys.js';
import type { ApiKeyRecord } from '../keys/api-key.js';
import type { UsageBucket, UsageInterval } from './usage.js';

export const intervalMs: Record<UsageInterval, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
export const MAX_BUCKETS = 1500;

export interface UsageQuery {
  readonly from?: Date | undefined;
  readonly to?: Date | undefined;
  readonly interval?: UsageInterval | undefined;
}

export interface UsageReport {
  readonly from: Date;
  readonly to: Date;
  readonly interval: UsageInterval;
  /** Every bucket of the range, oldest first, zeros included, so charts need no gap filling. */
  readonly buckets: UsageBucket[];
  readonly totals: { valid: number; rejected: number; rejectedByCode: Record<string, number> };
}

function resolveRange(now: Date, query: UsageQuery): { from: Date; to: Date; interval: UsageInterval } {
  const interval = query.interval ?? 'hour';
  const step = intervalMs[interval];
  const to = query.to ?? now;
  const from = query.from ?? new Date(to.getTime() - (interval === 'minute' ? 3_600_000 : interval === 'hour' ? 86_400_000 : 30 * 86_400_000));
  if (from.getTime() >= to.getTime()) throw new FieldError('from', '"from" must be before "to".');
  const alignedFrom = new Date(from.getTime() - (from.getTime() % step));
  if ((to.getTime() - alignedFrom.getTime()) / step > MAX_BUCKETS) {
    throw new FieldError('interval', `The range holds more than ${MAX_BUCKETS} ${interval}s; choose a larger interval or a shorter range.`);
  }
  return { from: alignedFrom, to, interval };
}

function report(range: { from: Date; to: Date; interval: UsageInterval }, sparse: UsageBucket[]): UsageReport {
  const step = intervalMs[range.interval];
  const byStart = new Map(sparse.map((b) => [b.start.getTime(), b]));
  const buckets: UsageBucket[] = [];
  const totals = { valid: 0, rejected: 0, rejectedByCode: {} as Record<string, number> };
  for (let t = range.from.getTime(); t < range.to.getTime(); t += step) {
    const bucket = byStart.get(t) ?? { start: new Date(t), valid: 0, rejected: 0, rejectedByCode: {} };
    buckets.push(bucket);
    totals.valid += bucket.valid;
    totals.rejected += bucket.rejected;
    for (const [code, n] of Object.entries(bucket.rejectedByCode)) totals.rejectedByCode[code] = (totals.rejectedByCode[code] ?? 0) + n;
  }
  return { ...range, buckets, totals };
}

/** Usage of one key the actor may see. */
export async function keyUsage(
  deps: Pick<CoreDeps, 'store' | 'clock' | 'catalogue'>,
  actor: Actor,
  keyId: KeyId,
  query: UsageQuery,
): Promise<UsageReport & { key: ApiKeyRecord }> {
  const key = await getKey(deps, actor, keyId);
  const range = resolveRange(deps.clock.now(), query);
  const sparse = await deps.store.usage.buckets(actor.orgId, keyId, range.from, range.to, range.interval);
  return { ...report(range, sparse), key };
}

/** Usage of the whole organization, with its busiest keys. Owners and admins. */
export async function organizationUsage(
  deps: Pick<CoreDeps, 'store' | 'clock' | 'catalogue'>,
  actor: Actor,
  query: UsageQuery & { topKeys?: number | undefined },
): Promise<UsageReport & { topKeys: { key: ApiKeyRecord | null; keyId: KeyId; valid: number; rejected: number }[] }> {
  assertCanManageOrganization(deps.catalogue, actor);
  const range = resolveRange(deps.clock.now(), query);
  const [sparse, top] = await Promise.all([
    deps.store.usage.buckets(actor.orgId, null, range.from, range.to, range.interval),
    deps.store.usage.topKeys(actor.orgId, range.from, range.to, query.topKeys ?? 10),
  ]);
  const topKeys = await Promise.all(
    top.map(async (t) => ({ ...t, key: await deps.store.keys.findById(actor.orgId, t.keyId) })),
  );
  return { ...report(range, sparse), topKeys };
}
