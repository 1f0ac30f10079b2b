import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../connect.js';

/**
 * The invalidation log (issue 11): one row per change that a verdict cache may hold, written in the
 * change's transaction. `seq` is the order instances read it in: a PostgreSQL identity column, a
 * SQLite `AUTOINCREMENT` rowid (never reused, even after pruning). Rows are pruned after an hour.
 */
export function invalidationLogMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('invalidations')
        .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (col) =>
          dialect === 'postgres' ? col.primaryKey().generatedAlwaysAsIdentity() : col.primaryKey().autoIncrement(),
        )
        .addColumn('at', 'bigint', (col) => col.notNull())
        .addColumn('event', 'text', (col) => col.notNull())
        .addColumn('origin', 'text', (col) => col.notNull())
        .execute();
      await db.schema.createIndex('invalidations_at').on('invalidations').column('at').execute();
    },
  };
}
