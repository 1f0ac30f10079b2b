import type { ExpiryNoticeRepository, LeaseRepository } from '@keyward/core';
import { sql } from 'kysely';
import { toMs, type RepositoryContext } from './db.js';
import { apiKey } from './key-repository.js';

/** Expiry reminders sent, claimed by inserting their row (the primary key makes a second claim a no-op). */
export function expiryNoticeRepository({ db }: RepositoryContext): ExpiryNoticeRepository {
  return {
    async due(stage, after, until, limit) {
      const rows = await db
        .selectFrom('api_keys')
        .selectAll('api_keys')
        .where('api_keys.expires_at', '>', toMs(after))
        .where('api_keys.expires_at', '<=', toMs(until))
        .where('api_keys.revoked_at', 'is', null)
        .where('api_keys.disabled_at', 'is', null)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('key_expiry_notices as n')
                .select(sql<number>`1`.as('one'))
                .whereRef('n.key_id', '=', 'api_keys.id')
                .whereRef('n.expires_at', '=', 'api_keys.expires_at')
                .where('n.stage', '=', stage),
            ),
          ),
        )
        .orderBy('api_keys.expires_at')
        .orderBy('api_keys.id')
        .limit(limit)
        .execute();
      return rows.map(apiKey);
    },
    async claim(notice) {
      const result = await db
        .insertInto('key_expiry_notices')
        .values({ key_id: notice.keyId, org_id: notice.orgId, stage: notice.stage, expires_at: toMs(notice.expiresAt), sent_at: toMs(notice.sentAt) })
        .onConflict((oc) => oc.columns(['key_id', 'stage', 'expires_at']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
    },
  };
}

/** Named leases, taken or extended by one conditional upsert. */
export function leaseRepository({ db }: RepositoryContext): LeaseRepository {
  return {
    async acquire(name, holder, now, until) {
      const result = await db
        .insertInto('scheduler_leases')
        .values({ name, holder, expires_at: toMs(until) })
        .onConflict((oc) =>
          oc
            .column('name')
            .doUpdateSet({ holder, expires_at: toMs(until) })
            .where((eb) => eb.or([eb('scheduler_leases.expires_at', '<=', toMs(now)), eb('scheduler_leases.holder', '=', holder)])),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
    },
    async release(name, holder) {
      await db.deleteFrom('scheduler_leases').where('name', '=', name).where('holder', '=', holder).execute();
    },
  };
}
