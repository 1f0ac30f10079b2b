import type { Invalidation, InvalidationLog } from '@keyward/core';
import { sql } from 'kysely';
import { json, toDate, toMs, type RepositoryContext } from './db.js';

/** The PostgreSQL channel on which appends wake other instances (payload: nothing). */
export const INVALIDATION_CHANNEL = 'keyward_invalidations';

/**
 * The invalidation log. On PostgreSQL an append also issues NOTIFY, which the server delivers when
 * (and only if) the transaction commits: one notification per change, never per verification (a
 * transaction with NOTIFY takes a global lock at commit).
 */
export function invalidationRepository({ db, dialect }: RepositoryContext, origin: string): InvalidationLog {
  return {
    origin,
    async append(event, at) {
      await db.insertInto('invalidations').values({ at: toMs(at), event: json(event), origin }).execute();
      if (dialect === 'postgres') await sql`select pg_notify(${INVALIDATION_CHANNEL}, '')`.execute(db);
    },
    async after(seq, limit) {
      const rows = await db.selectFrom('invalidations').select(['seq', 'at', 'event', 'origin']).where('seq', '>', seq).orderBy('seq').limit(limit).execute();
      return rows.map((row) => ({ seq: Number(row.seq), at: toDate(row.at), event: JSON.parse(row.event) as Invalidation, origin: row.origin }));
    },
    async latestSeq() {
      const row = await db.selectFrom('invalidations').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
      return row?.seq == null ? 0 : Number(row.seq);
    },
    async prune(before) {
      const result = await db.deleteFrom('invalidations').where('at', '<', toMs(before)).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
