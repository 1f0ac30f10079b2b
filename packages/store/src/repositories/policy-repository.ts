import type { OrgId, OrganizationPolicy, PolicyRepository } from '@keyward/core';
import { toMs, type RepositoryContext } from './db.js';

/** Organization key policies, one row per organization that set one; flags are stored as 0/1. */
export function policyRepository({ db }: RepositoryContext): PolicyRepository {
  return {
    async find(orgId: OrgId) {
      const row = await db.selectFrom('organization_policies').selectAll().where('org_id', '=', orgId).executeTakeFirst();
      if (!row) return null;
      const days = (value: number | null) => (value === null ? null : Number(value));
      return {
        maxKeyLifetimeDays: days(row.max_key_lifetime_days),
        defaultKeyLifetimeDays: days(row.default_key_lifetime_days),
        requireExpiry: Number(row.require_expiry) === 1,
        requireAllowedCidrsForServiceKeys: Number(row.require_allowed_cidrs_for_service_keys) === 1,
        personalKeysAllowed: Number(row.personal_keys_allowed) === 1,
      } satisfies OrganizationPolicy;
    },
    async save(orgId: OrgId, policy: OrganizationPolicy, at: Date) {
      const values = {
        max_key_lifetime_days: policy.maxKeyLifetimeDays,
        default_key_lifetime_days: policy.defaultKeyLifetimeDays,
        require_expiry: policy.requireExpiry ? 1 : 0,
        require_allowed_cidrs_for_service_keys: policy.requireAllowedCidrsForServiceKeys ? 1 : 0,
        personal_keys_allowed: policy.personalKeysAllowed ? 1 : 0,
        updated_at: toMs(at),
      };
      await db
        .insertInto('organization_policies')
        .values({ org_id: orgId, ...values })
        .onConflict((oc) => oc.column('org_id').doUpdateSet(values))
        .execute();
    },
  };
}
