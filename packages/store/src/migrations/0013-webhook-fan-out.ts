import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Events fanned out by the delivery worker (issue 15): a change writes only its event in its own
 * transaction (`fan_out_pending = 1`), and the worker writes one delivery per subscribed endpoint
 * later, off the request path, clearing the flag in the same transaction. Events written before this
 * migration already have their deliveries (0). The partial index finds the few waiting events.
 */
export const webhookFanOutMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('webhook_events').addColumn('fan_out_pending', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema
      .createIndex('webhook_events_fan_out')
      .on('webhook_events')
      .columns(['created_at', 'id'])
      .where(sql.ref('fan_out_pending'), '=', 1)
      .execute();
  },
};
