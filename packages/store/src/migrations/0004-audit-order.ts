import type { Kysely, Migration } from 'kysely';

/**
 * The audit log is listed by `(at, id)`, newest first (CONTRACT.md: `at` never goes backwards down
 * the list, ties by id), no longer by the append sequence: entries stamped before their writer took
 * the lock commit out of time order. Each access path (the whole log, by actor, by target, by
 * action) gets an index that ends in `(at, id)`, so a page is read in order instead of sorted; the
 * sequence-ordered indexes they replace are dropped. @see issue 10, item 5
 */
export const auditOrderMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createIndex('audit_log_org_at').on('audit_log').columns(['org_id', 'at', 'id']).execute();
    await db.schema.createIndex('audit_log_org_actor_at').on('audit_log').columns(['org_id', 'actor_id', 'at', 'id']).execute();
    await db.schema.createIndex('audit_log_org_target_at').on('audit_log').columns(['org_id', 'target_id', 'at', 'id']).execute();
    await db.schema.createIndex('audit_log_org_action_at').on('audit_log').columns(['org_id', 'action', 'at', 'id']).execute();
    for (const index of ['audit_log_org_seq', 'audit_log_org_actor', 'audit_log_org_target', 'audit_log_org_action']) {
      await db.schema.dropIndex(index).execute();
    }
  },
};
