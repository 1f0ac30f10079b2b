import type { MemberRepository, MemberView, Membership, MembershipStatus, OrgId, OrgRole, UserId } from '@keyward/core';
import type { Selectable } from 'kysely';
import { pageFrom } from '../cursor.js';
import type { MembershipsTable } from '../schema.js';
import { afterPosition, forUpdate, toDate, toMs, type RepositoryContext } from './db.js';

function membership(row: Selectable<MembershipsTable>): Membership {
  return {
    orgId: row.org_id as OrgId,
    userId: row.user_id as UserId,
    role: row.role as OrgRole,
    status: row.status as MembershipStatus,
    createdAt: toDate(row.created_at),
  };
}

const memberView = (row: Selectable<MembershipsTable> & { email: string; name: string | null }): MemberView => ({
  ...membership(row),
  email: row.email,
  name: row.name,
});

/** Memberships: every method is scoped by the organization in its `where` clause. */
export function memberRepository({ db, dialect }: RepositoryContext): MemberRepository {
  const selectOne = (orgId: OrgId, userId: UserId) =>
    db.selectFrom('memberships').selectAll().where('org_id', '=', orgId).where('user_id', '=', userId);
  const selectViews = (orgId: OrgId) =>
    db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .selectAll('memberships')
      .select(['users.email', 'users.name'])
      .where('memberships.org_id', '=', orgId);
  return {
    async insert(m) {
      await db
        .insertInto('memberships')
        .values({ org_id: m.orgId, user_id: m.userId, role: m.role, status: m.status, created_at: toMs(m.createdAt) })
        .execute();
    },
    async find(orgId, userId) {
      const row = await selectOne(orgId, userId).executeTakeFirst();
      return row ? membership(row) : null;
    },
    async findForUpdate(orgId, userId) {
      const row = await forUpdate(selectOne(orgId, userId), dialect).executeTakeFirst();
      return row ? membership(row) : null;
    },
    async findView(orgId, userId) {
      const row = await selectViews(orgId).where('memberships.user_id', '=', userId).executeTakeFirst();
      return row ? memberView(row) : null;
    },
    async list(orgId, page) {
      let query = selectViews(orgId);
      if (page.cursor) query = query.where(afterPosition(page.cursor, 'memberships.created_at', 'memberships.user_id', 'asc'));
      const rows = await query.orderBy('memberships.created_at', 'asc').orderBy('memberships.user_id', 'asc').limit(page.limit + 1).execute();
      return pageFrom(rows, page.limit, memberView, (row) => [Number(row.created_at), row.user_id]);
    },
    async update(orgId, userId, patch) {
      const values: Partial<MembershipsTable> = {};
      if (patch.role !== undefined) values.role = patch.role;
      if (patch.status !== undefined) values.status = patch.status;
      if (Object.keys(values).length === 0) return;
      await db.updateTable('memberships').set(values).where('org_id', '=', orgId).where('user_id', '=', userId).execute();
    },
    async delete(orgId, userId) {
      await db.deleteFrom('memberships').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
    },
    async countActiveOwners(orgId) {
      const row = await db
        .selectFrom('memberships')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('org_id', '=', orgId)
        .where('role', '=', 'OWNER')
        .where('status', '=', 'active')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async lockMemberships(orgId) {
      if (dialect !== 'postgres') return;
      await db.selectFrom('organizations').select('id').where('id', '=', orgId).forNoKeyUpdate().execute();
    },
  };
}
