import type { Kysely, Migration } from 'kysely';

/**
 * Expiry reminders (issue 15): which reminder of which key's expiry was sent (`stage`: `7d`, `1d`,
 * `expired`, for the `expires_at` it was about, so a new expiry date gets its own reminders), claimed
 * by inserting the row, so each is sent once whatever the number of instances; and named leases that
 * let one instance at a time run a periodic job. Expiry is looked up across organizations by date.
 * The same statements on SQLite and PostgreSQL.
 */
export const expiryNoticesMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('key_expiry_notices')
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('sent_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('key_expiry_notices_pk', ['key_id', 'stage', 'expires_at'])
      .execute();
    await db.schema
      .createTable('scheduler_leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('api_keys_expires_at').on('api_keys').column('expires_at').execute();
  },
};
