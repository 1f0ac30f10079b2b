import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database as BetterSqliteDatabase, Statement } from 'better-sqlite3';
import { StoreBusy } from '@keyward/core';
import { SelectQueryNode, SqliteDialect, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult } from 'kysely';

/** Prepared statements kept per connection; the hot lookups are a handful of statements. */
const STATEMENT_CACHE_SIZE = 256;
/** Longer statements (batched inserts and updates, whose text varies with their size) are not kept. */
const CACHEABLE_SQL_LENGTH = 2048;
/** The first pause after SQLITE_BUSY, and the longest: short enough that a freed lock is taken soon after. */
const FIRST_PAUSE_MS = 2;
const LONGEST_PAUSE_MS = 50;

export interface SqliteLockOptions {
  /**
   * How long a statement or `BEGIN IMMEDIATE` waits for another process's write lock, in pauses on
   * timers (the event loop keeps serving), before failing with `StoreBusy`.
   */
  readonly lockWaitMs: number;
  /** Another connection to the same file (the verification reader) that the dialect closes with its own. */
  readonly alsoClose?: BetterSqliteDatabase | undefined;
}

/** Each connection's kept statements, by their SQL (see `preparedStatement`). */
const statementsByDatabase = new WeakMap<BetterSqliteDatabase, Map<string, Statement>>();

/**
 * `sql` prepared on `database`, kept for the next time: Kysely prepares every query anew, and on a
 * cache miss of the verifier (a key lookup) preparing costs more than running; the repositories'
 * statements run row by row (usage writes) come from here too. Statements run synchronously to
 * completion, so a kept statement is never used by two queries at once.
 */
export function preparedStatement(database: BetterSqliteDatabase, sql: string): Statement {
  if (sql.length > CACHEABLE_SQL_LENGTH) return database.prepare(sql);
  let statements = statementsByDatabase.get(database);
  if (!statements) statementsByDatabase.set(database, (statements = new Map()));
  let statement = statements.get(sql);
  if (!statement) {
    if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
    statements.set(sql, (statement = database.prepare(sql)));
  }
  return statement;
}

const isBusy = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('SQLITE_BUSY');

/** One caller's use of the single SQLite connection: Kysely acquires one per query or transaction. */
class SqliteHandle implements DatabaseConnection {
  constructor(private readonly driver: LockAwareSqliteDriver) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.driver.execute(this, query);
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(query.query)) throw new Error('Sqlite driver only supports streaming of select queries');
    // Read whole, then handed out row by row: a statement left half-iterated across awaits would be
    // busy for every other caller of the shared connection.
    const { rows } = await this.driver.execute<R>(this, query);
    for (const row of rows) yield { rows: [row] };
  }
}

/**
 * Kysely's SQLite driver, rebuilt so that a lock held by another process never blocks the event loop.
 *
 * The connection's busy timeout is 0: SQLite answers SQLITE_BUSY at once instead of sleeping on the
 * event loop (a synchronous driver's busy wait freezes every request, verification included). The
 * statement or `BEGIN IMMEDIATE` that met the lock is retried after a pause on a timer, with backoff,
 * until `lockWaitMs` has passed; then it fails with `StoreBusy` (the server answers 503 `store_busy`).
 * Reads need no lock in WAL mode, so they keep answering meanwhile.
 *
 * In this process, one transaction at a time owns the connection, from its `BEGIN IMMEDIATE` to its
 * `COMMIT` or `ROLLBACK`; other callers' statements wait for it (they would otherwise run inside it).
 * Nothing is owned while waiting for the lock, so a write waiting for another process delays only
 * itself. Transactions begin with `BEGIN IMMEDIATE`: the write lock is taken up front, so a
 * transaction that began never meets the lock again (with a deferred `BEGIN`, a transaction that reads
 * then writes fails with SQLITE_BUSY when another process committed in between, whatever the wait).
 */
class LockAwareSqliteDriver implements Driver {
  readonly #database: BetterSqliteDatabase;
  readonly #prepare: (sql: string) => Statement;
  readonly #lockWaitMs: number;
  readonly #alsoClose: BetterSqliteDatabase | undefined;
  /** The handle whose transaction is open, if any. */
  #owner: SqliteHandle | null = null;
  #released: Array<() => void> = [];

  constructor(database: BetterSqliteDatabase, options: SqliteLockOptions) {
    this.#database = database;
    this.#prepare = (sql) => preparedStatement(database, sql);
    this.#lockWaitMs = options.lockWaitMs;
    this.#alsoClose = options.alsoClose;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new SqliteHandle(this);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#whenFree(connection as SqliteHandle, () => {
      this.#database.exec('begin immediate');
      this.#owner = connection as SqliteHandle;
    });
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    this.#assertOwner(connection);
    // On failure the transaction stays open and owned: Kysely rolls it back next.
    this.#database.exec('commit');
    this.#release();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    this.#assertOwner(connection);
    try {
      if (this.#database.inTransaction) this.#database.exec('rollback');
    } finally {
      this.#release();
    }
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    // A transaction is always committed or rolled back before its connection is released; should one
    // be left open, it must not swallow the statements of whoever comes next.
    if (this.#owner === connection) await this.rollbackTransaction(connection);
  }

  async destroy(): Promise<void> {
    this.#alsoClose?.close();
    this.#database.close();
  }

  /** Runs a statement: at once inside the caller's own transaction, else when no transaction is open. */
  async execute<R>(handle: SqliteHandle, query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.#owner === handle) return this.#run<R>(query);
    return this.#whenFree(handle, () => this.#run<R>(query));
  }

  #run<R>(query: CompiledQuery): QueryResult<R> {
    const statement = this.#prepare(query.sql);
    const parameters = query.parameters as unknown[];
    if (statement.reader) return { rows: statement.all(parameters) as R[] };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  /**
   * Runs `work` synchronously once no transaction of this process is open, pausing on a timer after
   * each SQLITE_BUSY (another process holds the write lock) until `lockWaitMs` has passed. A statement
   * that failed with SQLITE_BUSY changed nothing, so running it again is safe.
   */
  async #whenFree<T>(handle: SqliteHandle, work: () => T): Promise<T> {
    const deadline = Date.now() + this.#lockWaitMs;
    let pauseMs = FIRST_PAUSE_MS;
    for (;;) {
      while (this.#owner !== null && this.#owner !== handle) await new Promise<void>((resolve) => this.#released.push(resolve));
      try {
        return work();
      } catch (err) {
        if (!isBusy(err)) throw err;
        const leftMs = deadline - Date.now();
        if (leftMs <= 0) throw new StoreBusy('Another process holds the database write lock.', { cause: err });
        // Jittered, so that several waiting writers do not retry in step.
        await sleep(Math.min(leftMs, pauseMs * (0.5 + randomInt(1000) / 1000)));
        pauseMs = Math.min(pauseMs * 2, LONGEST_PAUSE_MS);
      }
    }
  }

  #assertOwner(connection: DatabaseConnection): void {
    if (this.#owner !== connection) throw new Error('This connection has no open transaction.');
  }

  #release(): void {
    this.#owner = null;
    const waiting = this.#released;
    this.#released = [];
    for (const resume of waiting) resume();
  }
}

/** Kysely's SQLite dialect over `LockAwareSqliteDriver`: `BEGIN IMMEDIATE`, and lock waits off the event loop. */
export class SqliteImmediateDialect extends SqliteDialect {
  readonly #database: BetterSqliteDatabase;
  readonly #options: SqliteLockOptions;

  constructor(database: BetterSqliteDatabase, options: SqliteLockOptions) {
    super({ database });
    this.#database = database;
    this.#options = options;
  }

  override createDriver(): Driver {
    return new LockAwareSqliteDriver(this.#database, this.#options);
  }
}
