import { CompiledQuery, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';

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
