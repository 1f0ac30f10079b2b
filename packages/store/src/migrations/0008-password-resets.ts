import type { Kysely, Migration } from 'kysely';

/**
 * One-time password reset tokens (issue 12), issued by `keyward admin reset-password`: the digest of
 * the token (never the token), whose account it resets, until when, and when it was spent or voided.
 * The same statements on SQLite and PostgreSQL.
 */
export const passwordResetsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('password_resets')
      .addColumn('token_digest', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema.createIndex('password_resets_user').on('password_resets').column('user_id').execute();
  },
};
