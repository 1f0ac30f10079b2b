import { DomainError } from '@keyward/core';

/** Cursors are the sort key of the last item, as base64url JSON: opaque to callers. */
export function encodeCursor(values: (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string, shape: ('string' | 'number')[]): (string | number)[] {
  const invalid = () => new DomainError('invalid_field', 'The cursor is not valid.', { path: 'cursor' });
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) throw invalid();
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(values) || values.length !== shape.length || !values.every((v, i) => typeof v === shape[i])) throw invalid();
  if (values.some((v) => typeof v === 'number' && !Number.isSafeInteger(v))) throw invalid();
  return values as (string | number)[];
}

/** Splits one extra row off a `limit + 1` query into the page and the next cursor. */
export function pageFrom<Row, T>(rows: Row[], limit: number, map: (row: Row) => T, cursorOf: (row: Row) => (string | number)[]) {
  const more = rows.length > limit;
  const items = (more ? rows.slice(0, limit) : rows).map(map);
  const last = more ? rows[limit - 1] : undefined;
  return { items, nextCursor: last !== undefined ? encodeCursor(cursorOf(last)) : null };
}
