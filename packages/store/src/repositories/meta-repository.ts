import type { MetaRepository } from '@keyward/core';
import type { RepositoryContext } from './db.js';

/** Deployment-wide named values (setup state, usage flush markers, …). */
export function metaRepository({ db }: RepositoryContext): MetaRepository {
  return {
    async get(name) {
      const row = await db.selectFrom('meta').select('value').where('name', '=', name).executeTakeFirst();
      return row ? row.value : null;
    },
    async set(name, value) {
      await db.insertInto('meta').values({ name, value }).onConflict((oc) => oc.column('name').doUpdateSet({ value })).execute();
    },
    async setIfAbsent(name, value) {
      // `on conflict do nothing`: of concurrent callers, only the one whose row went in counts one.
      const result = await db.insertInto('meta').values({ name, value }).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async delete(name) {
      const result = await db.deleteFrom('meta').where('name', '=', name).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
