import type { BindingRole, OrgId, Permission, RoleBindingId, RoleBindingRepository, ScopeType, UserId, UserRoleBinding } from '@keyward/core';
import type { Selectable } from 'kysely';
import { pageFrom } from '../cursor.js';
import type { RoleBindingsTable } from '../schema.js';
import { afterPosition, json, parseJson, toDate, toMs, type RepositoryContext } from './db.js';

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

/** Role bindings: every method is scoped by the organization in its `where` clause. */
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
      if (page.cursor) query = query.where(afterPosition(page.cursor, 'created_at', 'id', 'asc'));
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
