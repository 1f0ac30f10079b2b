import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, SqliteDriver, type DatabaseConnection, type SqliteDialectConfig } from 'kysely';
import pg from 'pg';
import type { Dialect } from './migrations.js';
import type { Database } from './schema.js';

/**
 * Write transactions take SQLite's write lock up front (`BEGIN IMMEDIATE`), so that a transaction
 * that reads and then writes cannot fail with SQLITE_BUSY when another process (an operator command
 * next to the server) wrote in between; the busy timeout then makes the second writer wait.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }
  override createDriver() {
    return new ImmediateSqliteDriver(this.settings);
  }
}

export interface Connection {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** The raw SQLite handle, for pragmas in tests. */
  readonly sqlite?: SqliteDatabase.Database;
}

export interface ConnectOptions {
  /** PostgreSQL: the schema every connection works in (tests use one per file). */
  readonly schema?: string | undefined;
  /** PostgreSQL: connections in the pool. */
  readonly poolSize?: number | undefined;
}

export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

/** Opens `sqlite:<path>` (or `sqlite::memory:`) or a `postgres://` URL. */
export function connect(url: string, options: ConnectOptions = {}): Connection {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    const file = path === ':memory:' || path === '' ? ':memory:' : resolve(path);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const sqlite = new SqliteDatabase(file);
    sqlite.pragma('journal_mode = WAL');
    // FULL: a commit survives power loss, not only a process crash (R48). NORMAL is not offered.
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    return { db: new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) }), dialect: 'sqlite', sqlite };
  }
  if (isPostgresUrl(url)) {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      // Bounded waits (R50): no statement, and no query as seen by the client, runs past 10 s.
      statement_timeout: 10_000,
      query_timeout: 12_000,
      idle_in_transaction_session_timeout: 30_000,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
      types: {
        getTypeParser: ((oid: number, format?: string) =>
          oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as never)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client that loses its server must not crash the process; the next query reports it.
    pool.on('error', () => {});
    return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres' };
  }
  throw new Error('the database URL must be sqlite:<path> or postgres://...');
}
