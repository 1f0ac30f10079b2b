import type { Repositories, Store } from '@keyward/core';
import { Migrator, sql } from 'kysely';
import { connect, type ConnectOptions, type Connection } from './connect.js';
import { migrationProvider } from './migrations.js';
import type { Db } from './repositories/db.js';
import { invitationRepository, memberRepository, orgRepository, sessionRepository, userRepository } from './repositories/people.js';
import { auditRepository, metaRepository, revokedTokenRepository, signingKeyRepository, usageRepository, verifierRepository } from './repositories/records.js';
import { keyRepository } from './repositories/keys.js';
import { projectRepository, roleBindingRepository, teamRepository } from './repositories/structure.js';
import { guarded, translateDriverError } from './store-errors.js';

export interface OpenStoreOptions extends ConnectOptions {
  /** Apply pending migrations before answering (what `serve` does). */
  readonly migrate?: boolean;
}

function repositories(db: Db, dialect: Connection['dialect']): Repositories {
  const ctx = { db, dialect };
  return {
    orgs: guarded(orgRepository(ctx)),
    users: guarded(userRepository(ctx)),
    sessions: guarded(sessionRepository(ctx)),
    members: guarded(memberRepository(ctx)),
    invitations: guarded(invitationRepository(ctx)),
    teams: guarded(teamRepository(ctx)),
    projects: guarded(projectRepository(ctx)),
    bindings: guarded(roleBindingRepository(ctx)),
    keys: guarded(keyRepository(ctx)),
    audit: guarded(auditRepository(ctx)),
    verifiers: guarded(verifierRepository(ctx)),
    signingKeys: guarded(signingKeyRepository(ctx)),
    usage: guarded(usageRepository(ctx)),
    meta: guarded(metaRepository(ctx)),
    revokedTokens: guarded(revokedTokenRepository(ctx)),
  };
}

/** Migrates a connection to the latest schema; returns the names of the migrations it applied. */
export async function migrateConnection(connection: Connection): Promise<string[]> {
  const migrator = new Migrator({ db: connection.db, provider: migrationProvider(connection.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw translateDriverError(error);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Opens the store at a database URL: `sqlite:<path>` (embedded, the default) or `postgres://…`.
 * Every repository method of the returned store and of its transactions is tenant-scoped by the
 * `orgId` it takes, and reports driver failures as `StoreConflict` or `StoreUnavailable`.
 *
 * Inside `transaction(fn)`, use only the `tx` repositories passed to `fn`: calling the outer store
 * there would wait for the transaction on SQLite (one connection) and escape it on PostgreSQL.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store & { readonly connection: Connection }> {
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

export function storeOver(connection: Connection): Store & { readonly connection: Connection } {
  const { db, dialect } = connection;
  return {
    ...repositories(db, dialect),
    dialect,
    connection,
    async transaction(fn) {
      try {
        return await db.transaction().execute((trx) => fn(repositories(trx, dialect)));
      } catch (err) {
        throw translateDriverError(err);
      }
    },
    async ping() {
      try {
        await sql`select 1`.execute(db);
      } catch (err) {
        throw translateDriverError(err);
      }
    },
    async close() {
      await db.destroy();
    },
  };
}

/** `keyward migrate`: opens the URL, applies pending migrations, closes. */
export async function migrateToLatest(url: string): Promise<string[]> {
  const connection = connect(url);
  try {
    return await migrateConnection(connection);
  } finally {
    await connection.db.destroy();
  }
}
