import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, type Dialect as KyselyDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { SqliteImmediateDialect } from './sqlite-immediate-dialect.js';
import { translatingDialect } from './translating-dialect.js';

/** The two databases the store runs on. */
export type Dialect = 'sqlite' | 'postgres';

/** An open Kysely handle and what it runs on. */
export interface Connection {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** The raw SQLite handle (SQLite only), for pragmas and diagnostics. */
  readonly sqlite?: SqliteDatabase.Database;
  /**
   * SQLite files (not `:memory:`): a second, read-only connection for the verifier's key lookups, run
   * as prepared statements outside Kysely. In WAL mode it reads the last commit without any lock, so
   * a verification that misses the cache never waits for a write transaction this process holds open
   * on the main connection, and costs a few microseconds instead of a trip through Kysely. Closed with
   * `db` (the dialect owns it).
   */
  readonly sqliteReader?: SqliteDatabase.Database;
  /** PostgreSQL: the schema the connection works in, when one was given. */
  readonly schema?: string;
  /** PostgreSQL: the URL, for connections outside the pool (the LISTEN connection). */
  readonly url?: string;
}

export interface ConnectOptions {
  /** PostgreSQL: the schema every connection works in (`search_path`); tests use one per file. */
  readonly schema?: string | undefined;
  /** PostgreSQL: connections in the pool (default 10). */
  readonly poolSize?: number | undefined;
  /** PostgreSQL: how long to wait for a connection, from the pool or the server (default 5000). */
  readonly connectTimeoutMs?: number | undefined;
  /** PostgreSQL: the longest a statement runs, on the server and as seen by the client (default 10000). */
  readonly statementTimeoutMs?: number | undefined;
  /**
   * SQLite: how long a write waits for the write lock another process holds, in pauses that leave the
   * event loop serving, before failing with `StoreBusy` (default 5000). Reads never wait for it.
   */
  readonly lockWaitMs?: number | undefined;
  /** SQLite files: open the read-only verification connection (`Connection.sqliteReader`; default true). */
  readonly verificationReader?: boolean | undefined;
}

/** SQLite: how long a write waits for another process's write lock by default. */
export const DEFAULT_LOCK_WAIT_MS = 5000;

/** Whether the URL selects PostgreSQL (`postgres://` or `postgresql://`). */
export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

/**
 * Opens `sqlite:<path>` (or `sqlite::memory:`) or a `postgres://` / `postgresql://` URL, without
 * touching the schema. Errors of the returned handle's driver come out as `StoreConflict` /
 * `StoreUnavailable` (see `translatingDialect`).
 */
export function connect(url: string, options: ConnectOptions = {}): Connection {
  if (url.startsWith('sqlite:')) return connectSqlite(url.slice('sqlite:'.length), options);
  if (isPostgresUrl(url)) return connectPostgres(url, options);
  throw new Error('The database URL must be sqlite:<path> or postgres://…');
}

/** How much of a SQLite file is read through a memory mapping (the rest, if any, by read()). */
const SQLITE_MMAP_BYTES = 2 ** 31;

function connectSqlite(path: string, options: ConnectOptions): Connection {
  const file = path === ':memory:' || path === '' ? ':memory:' : resolve(path);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  // Opening may wait for another process (switching a new file to WAL takes an exclusive lock); nothing
  // is served yet, so waiting here stalls nobody.
  const lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
  const sqlite = new SqliteDatabase(file, { timeout: lockWaitMs });
  sqlite.pragma('journal_mode = WAL');
  // FULL: a commit survives power loss, not only a process crash (R48).
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  // Reads through memory-mapped pages rather than a read() per page: a verification that misses the
  // cache looks up one key at random in a file of up to a million keys (about 1 GB), 2.6 times as
  // fast so (issue 13; docs/deployment.md). The mapping is address space over the OS page cache, not
  // heap. In-memory databases have no file to map.
  if (file !== ':memory:') sqlite.pragma(`mmap_size = ${SQLITE_MMAP_BYTES}`);
  // From here on, no busy wait in SQLite itself: the driver is synchronous, so SQLite's wait for a lock
  // another process holds would stall the whole event loop. The store waits instead, on timers, up to
  // `lockWaitMs` (R48, R50); see `SqliteImmediateDialect`.
  sqlite.pragma('busy_timeout = 0');
  const reader = file === ':memory:' || options.verificationReader === false ? undefined : openReader(file);
  const dialect = new SqliteImmediateDialect(sqlite, { lockWaitMs, alsoClose: reader });
  return { db: kysely(dialect), dialect: 'sqlite', sqlite, ...(reader ? { sqliteReader: reader } : {}) };
}

/**
 * The verification reader of a SQLite file the main connection has opened (and switched to WAL). Its
 * busy timeout is 0 as well: the rare read that meets a lock (another process recovering the WAL)
 * fails at once, and the repository falls back to the main connection, which waits on timers.
 */
function openReader(file: string): SqliteDatabase.Database {
  const reader = new SqliteDatabase(file, { readonly: true, fileMustExist: true, timeout: 0 });
  reader.pragma(`mmap_size = ${SQLITE_MMAP_BYTES}`);
  return reader;
}

/** int8 (counts, epoch milliseconds) as JS numbers: every value the store keeps is below 2^53. */
const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === pg.types.builtins.INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser;

function connectPostgres(url: string, options: ConnectOptions): Connection {
  if (options.schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(options.schema)) {
    throw new Error('The schema must be a plain SQL identifier.');
  }
  const pool = new pg.Pool({
    connectionString: url,
    application_name: 'keyward',
    max: options.poolSize ?? 10,
    // Bounded waits (R50): a connection within 5 s, no statement past 10 s. The server cancels a slow
    // statement (the connection stays usable); the client-side timeout, a second later, covers a
    // server or network that stopped answering at all.
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    query_timeout: (options.statementTimeoutMs ?? 10_000) + 1000,
    idle_in_transaction_session_timeout: 30_000,
    idleTimeoutMillis: 30_000,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    // Per pool, not pg's global parser: other code in the process keeps pg's defaults.
    types: { getTypeParser },
  });
  // A client that loses its server must not crash the process: idle clients report through the
  // pool, checked-out ones through their own 'error' event (which pg emits with no listener, an
  // uncaught exception). The query in flight rejects on its own and answers 503.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return { db: kysely(new PostgresDialect({ pool: abandoningTimedOutClients(pool) })), dialect: 'postgres', url, ...(options.schema ? { schema: options.schema } : {}) };
}

/** pg's error when `query_timeout` passes with no answer from the server. */
const CLIENT_TIMEOUT = 'Query read timeout';

/**
 * The pool as Kysely sees it, but a client whose statement timed out on the client side (the server
 * stopped answering: `query_timeout`) is abandoned. pg keeps such a client usable, its statement still
 * pending on a server that may never answer, so the next statement on it (first of all the ROLLBACK of
 * its transaction) would wait behind it for one more full timeout: a write in flight when the
 * database hung answered after 22 s instead of 11 (R50). Its later statements fail at once, and on
 * release it is destroyed rather than returned to the pool; the server rolls back its transaction
 * when the connection closes.
 */
function abandoningTimedOutClients(pool: pg.Pool): PostgresPool {
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    let abandoned = false;
    const query = (sql: string, parameters: readonly unknown[]) => {
      if (abandoned) return Promise.reject(new Error(`${CLIENT_TIMEOUT} earlier on this connection; it is abandoned`));
      return client.query(sql, parameters as unknown[]).catch((err: unknown) => {
        if (err instanceof Error && err.message === CLIENT_TIMEOUT) abandoned = true;
        throw err;
      });
    };
    return {
      // Kysely passes a cursor only when its `cursor` option is set; it is not.
      query: query as unknown as PostgresPoolClient['query'],
      // pg-pool destroys a client released with an error; `release` is set anew at each checkout.
      release: () => (abandoned ? client.release(true) : client.release()),
    };
  };
  return {
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        wrapper = wrap(client);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}

function kysely(dialect: KyselyDialect): Kysely<Database> {
  return new Kysely<Database>({ dialect: translatingDialect(dialect) });
}
