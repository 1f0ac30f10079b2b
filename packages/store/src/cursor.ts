import { DomainError } from '@keyward/core';
import type { Page } from '@keyward/core';

/** A sort key: the values of the ordering columns of one row. */
export type SortKey = readonly (string | number)[];

/** Cursors are the sort key of the last item, as base64url JSON: opaque to callers. */
export function encodeCursor(values: SortKey): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

const invalidCursor = () => new DomainError('invalid_field', 'The cursor is not valid.', { path: 'cursor' });

/**
 * Reads a cursor made by `encodeCursor` with the given shape; anything else (not base64url, not
 * JSON, wrong arity or types, unsafe integers, strings that are not ids) is an `invalid_field` error
 * on `cursor`.
 */
export function decodeCursor<const Shape extends readonly ('string' | 'number')[]>(
  cursor: string,
  shape: Shape,
): { -readonly [I in keyof Shape]: Shape[I] extends 'number' ? number : string } {
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) throw invalidCursor();
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(values) || values.length !== shape.length || !values.every((v, i) => typeof v === shape[i])) throw invalidCursor();
  if (values.some((v) => typeof v === 'number' && !Number.isSafeInteger(v))) throw invalidCursor();
  // The strings of a sort key are ids: a forged one holding NUL would be a PostgreSQL error, not a page.
  if (values.some((v) => typeof v === 'string' && !/^[0-9A-Za-z_]{1,128}$/.test(v))) throw invalidCursor();
  return values as never;
}

/** Splits one extra row off a `limit + 1` query into the page and the cursor after its last item. */
export function pageFrom<Row, T>(rows: Row[], limit: number, map: (row: Row) => T, sortKeyOf: (row: Row) => SortKey): Page<T> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return { items: pageRows.map(map), nextCursor: hasMore && last !== undefined ? encodeCursor(sortKeyOf(last)) : null };
}
