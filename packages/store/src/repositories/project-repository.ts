import type { OrgId, Project, ProjectId, ProjectRepository, TeamId } from '@keyward/core';
import type { Selectable } from 'kysely';
import { pageFrom } from '../cursor.js';
import type { ProjectsTable } from '../schema.js';
import { afterPosition, toDate, toDateOrNull, toMs, toMsOrNull, type RepositoryContext } from './db.js';

const project = (row: Selectable<ProjectsTable>): Project => ({
  id: row.id as ProjectId,
  orgId: row.org_id as OrgId,
  teamId: row.team_id as TeamId | null,
  name: row.name,
  archivedAt: toDateOrNull(row.archived_at),
  createdAt: toDate(row.created_at),
});

/** Projects: every method is scoped by the organization in its `where` clause. */
export function projectRepository({ db }: RepositoryContext): ProjectRepository {
  return {
    async insert(p) {
      await db
        .insertInto('projects')
        .values({ id: p.id, org_id: p.orgId, team_id: p.teamId, name: p.name, archived_at: toMsOrNull(p.archivedAt), created_at: toMs(p.createdAt) })
        .execute();
    },
    async findById(orgId, projectId) {
      const row = await db.selectFrom('projects').selectAll().where('org_id', '=', orgId).where('id', '=', projectId).executeTakeFirst();
      return row ? project(row) : null;
    },
    async list(orgId, filter, page) {
      let query = db.selectFrom('projects').selectAll().where('org_id', '=', orgId);
      if (!filter.includeArchived) query = query.where('archived_at', 'is', null);
      if (filter.teamId) query = query.where('team_id', '=', filter.teamId);
      if (page.cursor) query = query.where(afterPosition(page.cursor, 'created_at', 'id', 'asc'));
      const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(page.limit + 1).execute();
      return pageFrom(rows, page.limit, project, (row) => [Number(row.created_at), row.id]);
    },
    async update(orgId, projectId, patch) {
      const values: Partial<ProjectsTable> = {};
      if (patch.name !== undefined) values.name = patch.name;
      if (patch.teamId !== undefined) values.team_id = patch.teamId;
      if (patch.archivedAt !== undefined) values.archived_at = toMsOrNull(patch.archivedAt);
      if (Object.keys(values).length === 0) return;
      await db.updateTable('projects').set(values).where('org_id', '=', orgId).where('id', '=', projectId).execute();
    },
  };
}
