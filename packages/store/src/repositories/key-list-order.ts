import { DomainError, type KeyListSort } from '@keyward/core';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Dialect } from '../connect.js';

/** The orders of the key list, by the column each sorts on. */
const sortColumns = {
  createdAt: { column: 'created_at', kind: 'number', nullable: false },
  lastUsedAt: { column: 'last_used_at', kind: 'number', nullable: true },
  expiresAt: { column: 'expires_at', kind: 'number', nullable: true },
  name: { column: 'name_lower', kind: 'text', nullable: false },
} as const;

export const newestFirst: KeyListSort = { field: 'createdAt', direction: 'desc' };

/**
 * One order of the key list: a column, then the id, both in one direction. A nullable column's
 * rows without a value (never used, no expiry) come after all the others in both directions, as
 * their own run ordered by id, so each run is a plain range of an `(org_id, column, id)` index.
 */
export interface KeyOrder {
  /** What the cursor records, so that a cursor of one order is refused by another. */
  readonly name: string;
  readonly column: (typeof sortColumns)[keyof typeof sortColumns]['column'];
  readonly kind: 'number' | 'text';
  readonly nullable: boolean;
  readonly direction: 'asc' | 'desc';
  /** The column as it sorts: names by code point on both dialects (PostgreSQL's "C" collation). */
  readonly sortExpression: RawBuilder<unknown>;
}

export function keyOrder(dialect: Dialect, sort: KeyListSort = newestFirst): KeyOrder {
  const { column, kind, nullable } = sortColumns[sort.field];
  const sortExpression = kind === 'text' && dialect === 'postgres' ? sql`${sql.ref(column)} collate "C"` : sql`${sql.ref(column)}`;
  return { name: `${sort.direction === 'desc' ? '-' : ''}${sort.field}`, column, kind, nullable, direction: sort.direction, sortExpression };
}

/** Where the previous page ended: the sort value of its last row (null in the run without one) and its id. */
export interface KeyPosition {
  readonly value: number | string | null;
  readonly id: string;
}

export function encodeKeyCursor(order: KeyOrder, position: KeyPosition): string {
  return Buffer.from(JSON.stringify([order.name, position.value, position.id])).toString('base64url');
}

const invalidCursor = (message = 'The cursor is not valid.') => new DomainError('invalid_field', message, { path: 'cursor' });
// A name as stored (one written before text was checked at the boundary may hold any character),
// but never NUL, which a PostgreSQL text parameter cannot carry.
const cursorText = /^[^\0]{0,400}$/u;

/**
 * Reads a cursor of `order`. Anything else (not base64url JSON, the wrong shape, a cursor of another
 * order, a value of the wrong type) is `invalid_field` on `cursor`: a 422, never a wrong page. The
 * cursors of the default order made before sorting existed (`[createdAt, id]`) still work.
 */
export function decodeKeyCursor(cursor: string, order: KeyOrder): KeyPosition {
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(cursor)) throw invalidCursor();
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(values)) throw invalidCursor();
  const parts: unknown[] = values.length === 2 && order.name === '-createdAt' ? [order.name, ...values] : values;
  const [name, value, id] = parts;
  if (parts.length !== 3 || typeof name !== 'string' || typeof id !== 'string' || !/^key_[0-9A-Za-z]{1,64}$/.test(id)) throw invalidCursor();
  if (name !== order.name) throw invalidCursor(`The cursor belongs to another order (sort=${name.slice(0, 20)}); start again without it.`);
  if (value === null && order.nullable) return { value, id };
  if (order.kind === 'number' && typeof value === 'number' && Number.isSafeInteger(value)) return { value, id };
  if (order.kind === 'text' && typeof value === 'string' && cursorText.test(value)) return { value, id };
  throw invalidCursor();
}

/** The rows strictly after `position` within the run of rows that have a value. */
export function afterValue(order: KeyOrder, position: KeyPosition): RawBuilder<SqlBool> {
  const operator = sql.raw(order.direction === 'asc' ? '>' : '<');
  return sql<SqlBool>`(${order.sortExpression}, ${sql.ref('id')}) ${operator} (${position.value}, ${position.id})`;
}

/** The rows strictly after `position` within the run of rows without a value (ordered by id). */
export function afterId(order: KeyOrder, position: KeyPosition): RawBuilder<SqlBool> {
  const operator = sql.raw(order.direction === 'asc' ? '>' : '<');
  return sql<SqlBool>`${sql.ref('id')} ${operator} ${position.id}`;
}
