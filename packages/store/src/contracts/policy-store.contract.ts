import { defaultOrganizationPolicy, type OrganizationPolicy, type Store } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { at, seedOrg } from './seed.js';

/** Organization key policies (issue 15): one per organization, replaced whole, never another tenant's. */
export function policyStoreContract(open: () => Promise<Store>) {
  describe('PolicyRepository', () => {
    it('has no policy for an organization that never set one, then keeps exactly what was saved', async () => {
      const store = await open();
      const org = await seedOrg(store);
      expect(await store.policies.find(org.id)).toBeNull();
      const strict: OrganizationPolicy = { maxKeyLifetimeDays: 3650, defaultKeyLifetimeDays: 1, requireExpiry: true, requireAllowedCidrsForServiceKeys: true, personalKeysAllowed: false };
      await store.policies.save(org.id, strict, at(1));
      expect(await store.policies.find(org.id)).toEqual(strict);
      await store.policies.save(org.id, defaultOrganizationPolicy, at(2));
      expect(await store.policies.find(org.id)).toEqual(defaultOrganizationPolicy);
    });

    it("never answers or changes another organization's policy", async () => {
      const store = await open();
      const [mine, theirs] = [await seedOrg(store), await seedOrg(store)];
      const policy: OrganizationPolicy = { ...defaultOrganizationPolicy, maxKeyLifetimeDays: 30 };
      await store.policies.save(mine.id, policy, at(1));
      expect(await store.policies.find(theirs.id)).toBeNull();
      await store.transaction((tx) => tx.policies.save(theirs.id, { ...defaultOrganizationPolicy, personalKeysAllowed: false }, at(2)));
      expect(await store.policies.find(mine.id)).toEqual(policy);
    });
  });
}
