import type { OrgId, OrgRepository, OrgRole, Organization, SigningAlgorithm } from '@keyward/core';
import type { Selectable } from 'kysely';
import type { OrganizationsTable } from '../schema.js';
import { toDate, toDateOrNull, toMs, toMsOrNull, type RepositoryContext } from './db.js';

export function organization(row: Selectable<OrganizationsTable>): Organization {
  return {
    id: row.id as OrgId,
    name: row.name,
    createdAt: toDate(row.created_at),
    bootstrappedAt: toDateOrNull(row.bootstrapped_at),
    signingAlgorithm: row.signing_algorithm as SigningAlgorithm,
    accessTokenTtlSeconds: Number(row.access_token_ttl_seconds),
  };
}

/** Organizations. The organization id is the tenant itself, so every method is keyed by it. */
export function orgRepository({ db }: RepositoryContext): OrgRepository {
  return {
    async insert(org) {
      await db
        .insertInto('organizations')
        .values({
          id: org.id,
          name: org.name,
          created_at: toMs(org.createdAt),
          bootstrapped_at: toMsOrNull(org.bootstrappedAt),
          signing_algorithm: org.signingAlgorithm,
          access_token_ttl_seconds: org.accessTokenTtlSeconds,
        })
        .execute();
    },
    async findById(orgId) {
      const row = await db.selectFrom('organizations').selectAll().where('id', '=', orgId).executeTakeFirst();
      return row ? organization(row) : null;
    },
    async listForUser(userId) {
      const rows = await db
        .selectFrom('memberships')
        .innerJoin('organizations', 'organizations.id', 'memberships.org_id')
        .selectAll('organizations')
        .select('memberships.role as member_role')
        .where('memberships.user_id', '=', userId)
        .where('memberships.status', '=', 'active')
        .orderBy('memberships.created_at', 'asc')
        .orderBy('organizations.id', 'asc')
        .execute();
      return rows.map((row) => ({ org: organization(row), role: row.member_role as OrgRole }));
    },
    async markBootstrapped(orgId, at) {
      // One conditional statement: of N concurrent callers, exactly one sees a changed row.
      const result = await db
        .updateTable('organizations')
        .set({ bootstrapped_at: toMs(at) })
        .where('id', '=', orgId)
        .where('bootstrapped_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async update(orgId, patch) {
      const values: Partial<OrganizationsTable> = {};
      if (patch.name !== undefined) values.name = patch.name;
      if (patch.signingAlgorithm !== undefined) values.signing_algorithm = patch.signingAlgorithm;
      if (patch.accessTokenTtlSeconds !== undefined) values.access_token_ttl_seconds = patch.accessTokenTtlSeconds;
      if (Object.keys(values).length === 0) return;
      await db.updateTable('organizations').set(values).where('id', '=', orgId).execute();
    },
    async count() {
      const row = await db.selectFrom('organizations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
