import type { OrgId, Team, TeamId, TeamRepository } from '@keyward/core';
import type { Selectable } from 'kysely';
import { pageFrom } from '../cursor.js';
import type { TeamsTable } from '../schema.js';
import { afterPosition, toDate, toMs, type RepositoryContext } from './db.js';

const team = (row: Selectable<TeamsTable>): Team => ({ id: row.id as TeamId, orgId: row.org_id as OrgId, name: row.name, createdAt: toDate(row.created_at) });

/** Teams: every method is scoped by the organization in its `where` clause. */
export function teamRepository({ db }: RepositoryContext): TeamRepository {
  return {
    async insert(t) {
      await db.insertInto('teams').values({ id: t.id, org_id: t.orgId, name: t.name, created_at: toMs(t.createdAt) }).execute();
    },
    async findById(orgId, teamId) {
      const row = await db.selectFrom('teams').selectAll().where('org_id', '=', orgId).where('id', '=', teamId).executeTakeFirst();
      return row ? team(row) : null;
    },
    async list(orgId, page) {
      let query = db.selectFrom('teams').selectAll().where('org_id', '=', orgId);
      if (page.cursor) query = query.where(afterPosition(page.cursor, 'created_at', 'id', 'asc'));
      const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(page.limit + 1).execute();
      return pageFrom(rows, page.limit, team, (row) => [Number(row.created_at), row.id]);
    },
    async update(orgId, teamId, patch) {
      await db.updateTable('teams').set({ name: patch.name }).where('org_id', '=', orgId).where('id', '=', teamId).execute();
    },
  };
}
