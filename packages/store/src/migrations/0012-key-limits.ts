import type { Kysely, Migration } from 'kysely';

/**
 * Per-key rate limits and credits (issue 14). `rate_limits` is a JSON list of `{name, limit,
 * windowSeconds}`; counting happens in memory (or Redis), never here. Credits: `credits_remaining`
 * null means unlimited; `credits_version` changes with every administrator's change (spending counted
 * under an older version is not subtracted again); `credits_period` is the UTC day or month of the
 * last refill (0 without a refill).
 */
export const keyLimitsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('api_keys').addColumn('rate_limits', 'text', (c) => c.notNull().defaultTo('[]')).execute();
    await db.schema.alterTable('api_keys').addColumn('credits_remaining', 'bigint').execute();
    await db.schema.alterTable('api_keys').addColumn('credits_refill_amount', 'bigint').execute();
    await db.schema.alterTable('api_keys').addColumn('credits_refill_interval', 'text').execute();
    await db.schema.alterTable('api_keys').addColumn('credits_version', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('api_keys').addColumn('credits_period', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  },
};
