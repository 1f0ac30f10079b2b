import type { Kysely, Transaction } from 'kysely';
import type { Dialect } from '../migrations.js';
import type { Database } from '../schema.js';

/** A Kysely handle: the database, or one transaction on it. */
export type Db = Kysely<Database> | Transaction<Database>;

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

/** Escapes LIKE wildcards so a search for "50%" finds "50%", not everything. */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}
