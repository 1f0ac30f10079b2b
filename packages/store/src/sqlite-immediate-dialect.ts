import type { Database as BetterSqliteDatabase } from 'better-sqlite3';
import { CompiledQuery, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDatabase, type SqliteDialectConfig } from 'kysely';

/** Prepared statements kept per connection; the hot lookups are a handful of statements. */
const STATEMENT_CACHE_SIZE = 256;
/** Longer statements (batched inserts and updates, whose text varies with their size) are not kept. */
const CACHEABLE_SQL_LENGTH = 2048;

/**
 * The database as Kysely sees it, with its prepared statements kept: Kysely prepares every query
 * anew, and on a cache miss of the verifier (a key lookup) preparing costs more than running. Kysely
 * runs one query at a time on this connection, so a kept statement is never used by two at once.
 */
export function withStatementCache(database: BetterSqliteDatabase): SqliteDatabase {
  const statements = new Map<string, ReturnType<BetterSqliteDatabase['prepare']>>();
  return {
    prepare(sql: string) {
      if (sql.length > CACHEABLE_SQL_LENGTH) return database.prepare(sql);
      let statement = statements.get(sql);
      if (!statement) {
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
        statements.set(sql, (statement = database.prepare(sql)));
      }
      return statement;
    },
    close() {
      statements.clear();
      database.close();
    },
  };
}

/**
 * Write transactions take SQLite's write lock up front (`BEGIN IMMEDIATE`). With a plain (deferred)
 * `BEGIN`, a transaction that reads and then writes fails at once with SQLITE_BUSY when another
 * process (an operator command next to the server) committed in between: the busy timeout cannot
 * help with a lock upgrade. Taken up front, the second writer simply waits for the busy timeout.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** Kysely's SQLite dialect, with transactions that begin with `BEGIN IMMEDIATE`. */
export class SqliteImmediateDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}
