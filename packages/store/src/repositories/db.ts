import { sql, type Expression, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { Dialect } from '../connect.js';
import { decodeCursor } from '../cursor.js';
import type { Database } from '../schema.js';

/** A Kysely handle: the database, or one transaction on it. */
export type Db = Kysely<Database> | Transaction<Database>;

/** What every repository is built from. */
export interface RepositoryContext {
  readonly db: Db;
  readonly dialect: Dialect;
}

export const toMs = (date: Date): number => date.getTime();
export const toMsOrNull = (date: Date | null | undefined): number | null => (date ? date.getTime() : null);
export const toDate = (ms: number): Date => new Date(Number(ms));
export const toDateOrNull = (ms: number | null): Date | null => (ms === null || ms === undefined ? null : new Date(Number(ms)));
export const json = (value: unknown): string => JSON.stringify(value);
export const parseJson = <T>(text: string | null, fallback: T): T => (text === null ? fallback : (JSON.parse(text) as T));

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
