import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../connect.js';

/**
 * The key list sorts by last use, expiry and name as well as by creation (issue 12). Each order reads
 * one organization's keys as a range of an `(org_id, column, id)` index, forwards or backwards; rows
 * without a last use or an expiry are the index's NULL range, read on their own after the others.
 * Names sort by code point on both dialects: PostgreSQL's index carries the "C" collation the list
 * sorts with (SQLite's default, BINARY, is the same order).
 */
export function keyListOrdersMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('api_keys_org_last_used').on('api_keys').columns(['org_id', 'last_used_at', 'id']).execute();
      await db.schema.createIndex('api_keys_org_expires').on('api_keys').columns(['org_id', 'expires_at', 'id']).execute();
      const name = dialect === 'postgres' ? sql`name_lower collate "C"` : sql`name_lower`;
      await sql`create index api_keys_org_name on api_keys (org_id, ${name}, id)`.execute(db);
    },
  };
}
