import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../connect.js';

/**
 * The outbox of events waiting for their deliveries (issue 15): a change writes its event here, in its
 * own transaction, and the delivery worker moves it into `webhook_events` with its deliveries. One
 * table keyed by an integer: one b-tree page per event in the change's commit, where a row of
 * `webhook_events` (its table, its text key and the fan-out index of 0013) wrote three. On SQLite
 * `seq` is the rowid without `AUTOINCREMENT` (which would write `sqlite_sequence` too); its order is
 * only the order events are fanned out in. Events waiting at the migration move here, and the flag and
 * index of 0013 go.
 */
export function webhookOutboxMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('webhook_outbox')
        .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (col) =>
          dialect === 'postgres' ? col.primaryKey().generatedAlwaysAsIdentity() : col.primaryKey(),
        )
        .addColumn('id', 'text', (col) => col.notNull())
        .addColumn('org_id', 'text', (col) => col.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('type', 'text', (col) => col.notNull())
        .addColumn('payload', 'text', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .execute();
      await sql`insert into webhook_outbox (id, org_id, type, payload, created_at)
        select id, org_id, type, payload, created_at from webhook_events where fan_out_pending = 1 order by created_at, id`.execute(db);
      await sql`delete from webhook_events where fan_out_pending = 1`.execute(db);
      await db.schema.dropIndex('webhook_events_fan_out').execute();
      await db.schema.alterTable('webhook_events').dropColumn('fan_out_pending').execute();
    },
  };
}
