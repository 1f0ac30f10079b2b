import type SqliteDatabase from 'better-sqlite3';
import { sql, type Expression, type Kysely, type SqlBool, type Transaction } from 'kysely';
import { StoreBusy } from '@keyward/core';
import type { Dialect } from '../connect.js';
import { decodeCursor } from '../cursor.js';
import type { Database } from '../schema.js';
import { preparedStatement } from '../sqlite-immediate-dialect.js';
import { translateDriverError } from '../translate-driver-error.js';

/** A Kysely handle: the database, or one transaction on it. */
export type Db = Kysely<Database> | Transaction<Database>;

/** What every repository is built from. */
export interface RepositoryContext {
  readonly db: Db;
  readonly dialect: Dialect;
  /**
   * The SQLite connection under `db` (null on PostgreSQL), for a statement prepared once and run row
   * by row: only inside a transaction `db` holds (`db.isTransaction`, or one opened for it), where
   * nothing else can run on the connection (see `inTransaction`).
   */
  readonly sqlite: SqliteDatabase.Database | null;
  /**
   * The read-only SQLite connection for verification lookups (`Connection.sqliteReader`); null on
   * PostgreSQL, in memory, and inside a transaction (whose reads must see its own writes).
   */
  readonly sqliteReader: SqliteDatabase.Database | null;
}

/**
 * One row read with a prepared statement on the verification reader: the row, null when there is
 * none, or undefined when there is no reader or the read met a lock (another process recovering the
 * WAL), for the caller to read through Kysely instead, which waits for locks on timers.
 */
export function readOnReader<Row>(reader: SqliteDatabase.Database | null, statement: string, ...parameters: unknown[]): Row | null | undefined {
  if (!reader) return undefined;
  try {
    return (preparedStatement(reader, statement).get(...parameters) as Row | undefined) ?? null;
  } catch (err) {
    const translated = translateDriverError(err);
    if (translated instanceof StoreBusy) return undefined;
    throw translated;
  }
}

/**
 * Runs `work` inside a transaction on `db`: the caller's when `db` is one, else a new one. On SQLite,
 * Kysely holds the one connection for the whole transaction, so statements run on the raw connection
 * from `work` are part of it and nothing else interleaves with them.
 */
export async function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T> | T): Promise<T> {
  if (db.isTransaction) return work(db);
  return db.transaction().execute(async (trx) => work(trx));
}

export const toMs = (date: Date): number => date.getTime();
export const toMsOrNull = (date: Date | null | undefined): number | null => (date ? date.getTime() : null);
export const toDate = (ms: number): Date => new Date(Number(ms));
export const toDateOrNull = (ms: number | null): Date | null => (ms === null || ms === undefined ? null : new Date(Number(ms)));
export const json = (value: unknown): string => JSON.stringify(value);
export const parseJson = <T>(text: string | null, fallback: T): T => (text === null ? fallback : (JSON.parse(text) as T));

/** Distinct JSON texts whose parsed value is shared, at most (the oldest go first); as many texts. */
const SHARED_MAX = 10_000;
const sharedJson = new Map<string, unknown>();
const sharedText = new Map<string, string>();

/**
 * One string for a value that many rows repeat (an organization id, a project id, an enum): the
 * driver makes a new string per row, and a cache of a million keys would hold a million copies.
 */
export function sharedString<T extends string | null>(text: T): T {
  if (text === null) return text;
  const known = sharedText.get(text);
  if (known !== undefined) return known as T;
  if (sharedText.size >= SHARED_MAX) sharedText.delete(sharedText.keys().next().value!);
  sharedText.set(text, text);
  return text;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * `parseJson` for values that many rows repeat (a key's permissions, bindings, scopes, allowlist): rows
 * with the same text share one deeply frozen value, so that a cache of a million keys does not hold a
 * million copies of the same 26 permission strings. Callers must not mutate it (the types say
 * `readonly`; frozen, a mutation throws instead of corrupting other rows).
 */
export function parseSharedJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  const known = sharedJson.get(text);
  if (known !== undefined) return known as T;
  const value = deepFreeze(JSON.parse(text) as T);
  if (sharedJson.size >= SHARED_MAX) sharedJson.delete(sharedJson.keys().next().value!);
  sharedJson.set(text, value);
  return value;
}

/** Escapes LIKE wildcards so that a search for "50%" finds "50%", not everything. Use with `escape '\'`. */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/** `name_lower like '%…%' escape '\'`, the same on both dialects. */
export function nameContains(column: string, text: string): Expression<SqlBool> {
  return sql<SqlBool>`${sql.ref(column)} like ${likeContains(text.toLowerCase())} escape '\\'`;
}

/**
 * Keyset pagination on `(time, id)`: the rows strictly after the position a cursor holds, in the
 * order of the list. A row-value comparison, which both dialects answer from a `(…, time, id)` index.
 */
export function afterPosition(cursor: string, timeColumn: string, idColumn: string, order: 'asc' | 'desc'): Expression<SqlBool> {
  const [time, id] = decodeCursor(cursor, ['number', 'string'] as const);
  const operator = sql.raw(order === 'asc' ? '>' : '<');
  return sql<SqlBool>`(${sql.ref(timeColumn)}, ${sql.ref(idColumn)}) ${operator} (${time}, ${id})`;
}

/**
 * `SELECT … FOR UPDATE` in PostgreSQL, a plain select in SQLite, where a write transaction holds the
 * database's only write lock from its first statement (`BEGIN IMMEDIATE`) and SQLite has no row locks.
 */
export function forUpdate<Query extends { forUpdate(): Query }>(query: Query, dialect: Dialect): Query {
  return dialect === 'postgres' ? query.forUpdate() : query;
}

/** Resolves after the event loop has handled what is waiting (I/O included). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
