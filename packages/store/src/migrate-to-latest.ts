import { Migrator } from 'kysely';
import { connect, type ConnectOptions, type Connection } from './connect.js';
import { migrationProvider } from './migrations/migration-provider.js';

/** Kysely's migrator over the store's migrations, for one open connection. */
export function migratorFor(connection: Connection): Migrator {
  // With a schema, Kysely must look for its migration tables there only: its existence check reads
  // every schema of the database and would otherwise find another schema's tables.
  return new Migrator({
    db: connection.db,
    provider: migrationProvider(connection.dialect),
    ...(connection.schema ? { migrationTableSchema: connection.schema } : {}),
  });
}

/** Migrates an open connection to the latest schema; returns the names of the migrations it applied. */
export async function migrateConnection(connection: Connection): Promise<string[]> {
  const { error, results } = await migratorFor(connection).migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Applies pending migrations (what `keyward migrate` runs) and returns the names of those it applied.
 * Given a URL, it opens the database, migrates and closes it; given a store from `openStore`, it
 * migrates that store's connection and leaves it open. Concurrent runs are safe: Kysely's migrator
 * takes a lock (an advisory lock on PostgreSQL, the write lock on SQLite).
 *
 * @example
 * const applied = await migrateToLatest(process.env.KEYWARD_DATABASE_URL ?? 'sqlite:.keyward/keyward.db');
 */
export async function migrateToLatest(target: string | { readonly connection: Connection }, options: ConnectOptions = {}): Promise<string[]> {
  if (typeof target !== 'string') return migrateConnection(target.connection);
  const connection = connect(target, options);
  try {
    return await migrateConnection(connection);
  } finally {
    await connection.db.destroy();
  }
}
