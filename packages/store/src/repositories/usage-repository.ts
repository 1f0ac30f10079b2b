import type { KeyId, UsageBucket, UsageIncrement, UsageRepository } from '@keyward/core';
import { sql, type Insertable } from 'kysely';
import type { UsageTable } from '../schema.js';
import { inTransaction, toMs, yieldToEventLoop, type Db, type RepositoryContext } from './db.js';
import { preparedStatement } from '../sqlite-immediate-dialect.js';

/** The code of valid verifications; every other code is a rejection (the verdict's code). */
const VALID = 'VALID';
/** Rejections an increment counts in `rejected` but attributes to no code. */
const UNSPECIFIED = 'UNSPECIFIED';

const intervalMs = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/** Rows per chunk: 5 parameters each stays far below both dialects' bound-parameter limits. */
const CHUNK = 500;

/** One row per (key, minute, code), duplicates summed: PostgreSQL refuses to upsert one row twice in a statement. */
function usageRows(increments: readonly UsageIncrement[]): Insertable<UsageTable>[] {
  const rows = new Map<string, Insertable<UsageTable>>();
  const add = (inc: UsageIncrement, code: string, count: number) => {
    if (!(count > 0)) return;
    const minuteStart = toMs(inc.minuteStart);
    const id = `${inc.keyId}\u0000${minuteStart}\u0000${code}`;
    const row = rows.get(id);
    if (row) row.count += count;
    else rows.set(id, { org_id: inc.orgId, key_id: inc.keyId, minute_start: minuteStart, code, count });
  };
  for (const inc of increments) {
    add(inc, VALID, inc.valid);
    let attributed = 0;
    for (const [code, count] of Object.entries(inc.rejectedByCode)) {
      add(inc, code, count);
      attributed += count;
    }
    add(inc, UNSPECIFIED, inc.rejected - attributed);
  }
  return [...rows.values()];
}

async function upsertAdd(db: Db, rows: Insertable<UsageTable>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    // SQLite runs on the event loop: let requests through between chunks of a large flush.
    if (i > 0) await yieldToEventLoop();
    await db
      .insertInto('usage')
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) => oc.columns(['key_id', 'minute_start', 'code']).doUpdateSet({ count: sql`usage.count + excluded.count` }))
      .execute();
  }
}

/** One row's upsert-add on SQLite, prepared once and run per row (a usage flush writes thousands). */
const SQLITE_UPSERT_ADD = `insert into usage (org_id, key_id, minute_start, code, count) values (?, ?, ?, ?, ?)
  on conflict (key_id, minute_start, code) do update set count = usage.count + excluded.count`;

/** Verification counts per key, minute and verdict code. */
export function usageRepository({ db, sqlite }: RepositoryContext): UsageRepository {
  return {
    async add(increments) {
      const rows = usageRows(increments);
      if (rows.length === 0) return;
      // All or nothing: a flush that fails half-way must not leave part of its counts behind,
      // or the retry would count them twice (R47).
      await inTransaction(db, (trx) => {
        if (!sqlite) return upsertAdd(trx, rows);
        // SQLite: one prepared statement run per row costs a fraction of building, compiling and
        // preparing a statement of 500 rows (issue 13: usage flushes of a million keys).
        const upsert = preparedStatement(sqlite, SQLITE_UPSERT_ADD);
        for (const row of rows) upsert.run(row.org_id, row.key_id, row.minute_start, row.code, row.count);
      });
    },
    async buckets(orgId, keyId, from, to, interval) {
      const bucket = sql<number>`(minute_start - (minute_start % ${sql.lit(intervalMs[interval])}))`;
      let query = db
        .selectFrom('usage')
        .select([bucket.as('bucket'), 'code', (eb) => eb.fn.sum<number>('count').as('total')])
        .where('org_id', '=', orgId)
        .where('minute_start', '>=', toMs(from))
        .where('minute_start', '<', toMs(to));
      if (keyId) query = query.where('key_id', '=', keyId);
      const rows = await query.groupBy([bucket, 'code']).orderBy(bucket).orderBy('code').execute();
      const byStart = new Map<number, { start: Date; valid: number; rejected: number; rejectedByCode: Record<string, number> }>();
      for (const row of rows) {
        const start = Number(row.bucket);
        const total = Number(row.total);
        let b = byStart.get(start);
        if (!b) byStart.set(start, (b = { start: new Date(start), valid: 0, rejected: 0, rejectedByCode: {} }));
        if (row.code === VALID) b.valid += total;
        else {
          b.rejected += total;
          b.rejectedByCode[row.code] = (b.rejectedByCode[row.code] ?? 0) + total;
        }
      }
      return [...byStart.values()].filter((b) => b.valid + b.rejected > 0).sort((x, y) => x.start.getTime() - y.start.getTime()) satisfies UsageBucket[];
    },
    async topKeys(orgId, from, to, limit) {
      const total = sql<number>`sum(count)`;
      const rows = await db
        .selectFrom('usage')
        .select(['key_id', total.as('total'), sql<number>`sum(case when code = ${VALID} then count else 0 end)`.as('valid')])
        .where('org_id', '=', orgId)
        .where('minute_start', '>=', toMs(from))
        .where('minute_start', '<', toMs(to))
        .groupBy('key_id')
        .orderBy(total, 'desc')
        .orderBy('key_id', 'asc')
        .limit(limit)
        .execute();
      return rows.map((row) => ({ keyId: row.key_id as KeyId, valid: Number(row.valid), rejected: Number(row.total) - Number(row.valid) }));
    },
  };
}
