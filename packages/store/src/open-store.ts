import { randomBytes } from 'node:crypto';
import type { Store } from '@keyward/core';
import { sql } from 'kysely';
import { connect, type ConnectOptions, type Connection } from './connect.js';
import { migrateConnection } from './migrate-to-latest.js';
import { repositories } from './repositories/repositories.js';
import { watchChanges } from './watch-changes.js';

export interface OpenStoreOptions extends ConnectOptions {
  /** Apply pending migrations before returning (what `serve` does). Off by default. */
  readonly migrate?: boolean | undefined;
}

/** The store over Kysely, with the connection it runs on (for migrations and diagnostics). */
export type KyselyStore = Store & { readonly connection: Connection };

/**
 * Opens the store at a database URL: `sqlite:<path>` (embedded; `sqlite::memory:` for a private
 * in-memory database) or `postgres://…` / `postgresql://…`. It does not migrate unless
 * `options.migrate` is true; see `migrateToLatest`.
 *
 * Every repository method that takes an `orgId` filters by it in its statement. Driver failures come
 * out as `StoreConflict` (a unique value exists) or `StoreUnavailable` (the database cannot answer).
 *
 * @example
 * const store = await openStore('sqlite:.keyward/keyward.db', { migrate: true });
 * const key = await store.keys.findById(orgId, keyId);
 * await store.close();
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<KyselyStore> {
  const connection = connect(url, options);
  if (options.migrate) {
    try {
      await migrateConnection(connection);
    } catch (err) {
      await connection.db.destroy();
      throw err;
    }
  }
  return storeOver(connection);
}

/** The store over an open connection. `close()` closes the connection. */
export function storeOver(connection: Connection): KyselyStore {
  const { db, dialect } = connection;
  // Stamped on this store's invalidation-log entries, so its own reader skips what it already knows.
  const origin = randomBytes(8).toString('hex');
  let closing: Promise<void> | null = null;
  return {
    ...repositories(db, dialect, origin, connection.sqlite ?? null, connection.sqliteReader ?? null),
    dialect,
    connection,
    /**
     * Runs `fn` with repositories bound to one transaction: committed when `fn` resolves, rolled back
     * when it throws (the error passes through). Inside `fn`, use only the `tx` it is given. Calling
     * the outer store there is a bug of the caller: on SQLite it waits for the transaction's own
     * connection and never returns; on PostgreSQL it runs outside the transaction.
     */
    transaction(fn) {
      return db.transaction().execute((trx) => fn(repositories(trx, dialect, origin, connection.sqlite ?? null)));
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    watchChanges(onWake) {
      return watchChanges(connection, onWake);
    },
    close() {
      closing ??= db.destroy();
      return closing;
    },
  };
}
