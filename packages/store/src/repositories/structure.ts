import type {
  BindingRole,
  OrgId,
  Permission,
  Project,
  ProjectId,
  ProjectRepository,
  RoleBindingId,
  RoleBindingRepository,
  ScopeType,
  Team,
  TeamId,
  TeamRepository,
  UserId,
  UserRoleBinding,
} from '@keyward/core';
import type { Selectable } from 'kysely';
import { decodeCursor, pageFrom } from '../cursor.js';
import type { ProjectsTable, RoleBindingsTable, TeamsTable } from '../schema.js';
import { json, parseJson, toDate, toDateOrNull, toMs, toMsOrNull, type RepositoryContext } from './db.js';

const team = (row: Selectable<TeamsTable>): Team => ({ id: row.id as TeamId, orgId: row.org_id as OrgId, name: row.name, createdAt: toDate(row.created_at) });

const project = (row: Selectable<ProjectsTable>): Project => ({
  id: row.id as ProjectId,
  orgId: row.org_id as OrgId,
  teamId: row.team_id as TeamId | null,
  name: row.name,
  archivedAt: toDateOrNull(row.archived_at),
  createdAt: toDate(row.created_at),
});

const binding = (row: Selectable<RoleBindingsTable>): UserRoleBinding => ({
  id: row.id as RoleBindingId,
  orgId: row.org_id as OrgId,
  userId: row.user_id as UserId,
  role: row.role as BindingRole,
  permissions: parseJson<Permission[] | null>(row.permissions, null),
  scopeType: row.scope_type as ScopeType,
  scopeId: row.scope_id,
  createdAt: toDate(row.created_at),
});

/** The `created_at, id` position a cursor points after. */
function position(cursor: string | null | undefined): [number, string] | null {
  return cursor ? (decodeCursor(cursor, ['number', 'string']) as [number, string]) : null;
}

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
      const after = position(page.cursor);
      if (after) query = query.where((eb) => eb.or([eb('created_at', '>', after[0]), eb.and([eb('created_at', '=', after[0]), eb('id', '>', after[1])])]));
      const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(page.limit + 1).execute();
      return pageFrom(rows, page.limit, team, (row) => [Number(row.created_at), row.id]);
    },
    async update(orgId, teamId, patch) {
      await db.updateTable('teams').set({ name: patch.name }).where('org_id', '=', orgId).where('id', '=', teamId).execute();
    },
  };
}

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
      const after = position(page.cursor);
      if (after) query = query.where((eb) => eb.or([eb('created_at', '>', after[0]), eb.and([eb('created_at', '=', after[0]), eb('id', '>', after[1])])]));
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

export function roleBindingRepository({ db }: RepositoryContext): RoleBindingRepository {
  return {
    async insert(b) {
      await db
        .insertInto('role_bindings')
        .values({
          id: b.id,
          org_id: b.orgId,
          user_id: b.userId,
          role: b.role,
          permissions: b.permissions ? json(b.permissions) : null,
          scope_type: b.scopeType,
          scope_id: b.scopeId,
          created_at: toMs(b.createdAt),
        })
        .execute();
    },
    async findById(orgId, bindingId) {
      const row = await db.selectFrom('role_bindings').selectAll().where('org_id', '=', orgId).where('id', '=', bindingId).executeTakeFirst();
      return row ? binding(row) : null;
    },
    async list(orgId, filter, page) {
      let query = db.selectFrom('role_bindings').selectAll().where('org_id', '=', orgId);
      if (filter.userId) query = query.where('user_id', '=', filter.userId);
      const after = position(page.cursor);
      if (after) query = query.where((eb) => eb.or([eb('created_at', '>', after[0]), eb.and([eb('created_at', '=', after[0]), eb('id', '>', after[1])])]));
      const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(page.limit + 1).execute();
      return pageFrom(rows, page.limit, binding, (row) => [Number(row.created_at), row.id]);
    },
    async listForUser(orgId, userId) {
      const rows = await db
        .selectFrom('role_bindings')
        .selectAll()
        .where('org_id', '=', orgId)
        .where('user_id', '=', userId)
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .execute();
      return rows.map(binding);
    },
    async delete(orgId, bindingId) {
      await db.deleteFrom('role_bindings').where('org_id', '=', orgId).where('id', '=', bindingId).execute();
    },
    async deleteForUser(orgId, userId) {
      await db.deleteFrom('role_bindings').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
    },
  };
}
