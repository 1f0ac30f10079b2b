import type { Kysely, Migration } from 'kysely';

/**
 * An organization's key policy (issue 15): maximum and default key lifetime in days, whether every
 * key must expire, whether service keys need an IP allowlist, whether personal keys may be created.
 * One row per organization that has set one; an organization without a row has the defaults. Flags
 * are 0/1 integers, so the same statements serve SQLite and PostgreSQL.
 */
export const organizationPolicyMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('organization_policies')
      .addColumn('org_id', 'text', (c) => c.primaryKey().references('organizations.id').onDelete('cascade'))
      .addColumn('max_key_lifetime_days', 'integer')
      .addColumn('default_key_lifetime_days', 'integer')
      .addColumn('require_expiry', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('require_allowed_cidrs_for_service_keys', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('personal_keys_allowed', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
