import type { Page, PageRequest } from '@keyward/core';
import { expect } from 'vitest';

/**
 * Walks a list page by page with `limit` and checks the page contract on the way: no page is longer
 * than `limit`, every page but the last is full, the last has a null cursor, and no item repeats.
 * Returns the items in the order served and the number of pages.
 */
export async function pageThrough<T>(list: (page: PageRequest) => Promise<Page<T>>, limit: number, idOf: (item: T) => string) {
  const items: T[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const page: Page<T> = await list({ limit, cursor });
    pages += 1;
    expect(page.items.length).toBeLessThanOrEqual(limit);
    if (page.nextCursor !== null) expect(page.items).toHaveLength(limit);
    items.push(...page.items);
    cursor = page.nextCursor;
    expect(pages).toBeLessThan(1000);
  } while (cursor !== null);
  expect(new Set(items.map(idOf)).size).toBe(items.length);
  return { items, ids: items.map(idOf), pages };
}

/** Cursors a list must refuse with `invalid_field` on `cursor`: not base64url, not JSON, wrong shape. */
export const forgedCursors = [
  'not a cursor!',
  Buffer.from('not json').toString('base64url'),
  Buffer.from('{"a":1}').toString('base64url'),
  Buffer.from('["x", 1, 2]').toString('base64url'),
  Buffer.from('[1e300, "x"]').toString('base64url'),
  Buffer.from('["1", 2]').toString('base64url'),
];

/** Expects every forged cursor to be refused as a field error on `cursor`. */
export async function expectForgedCursorsRefused(list: (page: PageRequest) => Promise<unknown>): Promise<void> {
  for (const cursor of forgedCursors) {
    await expect(list({ limit: 2, cursor }), cursor).rejects.toMatchObject({ name: 'DomainError', code: 'invalid_field', details: { path: 'cursor' } });
  }
}
