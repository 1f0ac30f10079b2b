import { randomBytes } from 'node:crypto';
import { StoreConflict, type OrgId, type Store } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { keyRecord, seedKey, seedMember, seedOrg } from './seed.js';

export function keyStoreContract(open: () => Promise<Store>) {
  describe('KeyRepository', () => {
    it('round-trips every field of a key', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = keyRecord(org.id, {
        description: 'd',
        bindings: [{ role: 'CUSTOM', scopeType: 'PROJECT', scopeId: 'proj_1', permissions: ['traces:read'] }],
        permissionMode: 'restricted',
        permissions: ['traces:read'],
        scopes: [{ action: 'read', resource: 'projects/*' }],
        allowedCidrs: ['10.0.0.0/8', '::/0'],
        expiresAt: new Date('2031-01-01T00:00:00.123Z'),
        previousSecret: { digest: randomBytes(32).toString('hex'), pepperVersion: 1 },
        previousSecretExpiresAt: new Date('2030-06-01T00:00:00Z'),
      });
      await store.keys.insert(key);
      expect(await store.keys.findById(org.id, key.id)).toEqual(key);
      expect(await store.keys.findForVerificationByLookupId(key.lookupId!)).toEqual(key);
      expect(await store.keys.findForVerificationByDigest(key.secret.digest)).toEqual(key);
      expect(await store.keys.findForVerificationByDigest(key.previousSecret!.digest)).toEqual(key);
    });

    it('never returns, updates or revokes a key for another organization, even given its exact id', async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const key = await seedKey(store, a.id);
      expect(await store.keys.findById(b.id, key.id)).toBeNull();
      await store.keys.update(b.id, key.id, { name: 'pwned', updatedAt: new Date() });
      expect(await store.keys.setRevoked(b.id, key.id, new Date(), 'x')).toBe(false);
      await store.keys.setSecret(b.id, key.id, { secret: { digest: 'ff'.repeat(32), pepperVersion: 1 }, previousSecret: null, previousSecretExpiresAt: null, preview: 'x', updatedAt: new Date() });
      expect(await store.keys.disablePersonalKeysOf(b.id, key.ownerUserId ?? ('usr_x' as never), new Date())).toEqual([]);
      expect(await store.keys.findById(a.id, key.id)).toEqual(key);
      const listed = await store.keys.list(b.id, { status: 'all', now: new Date() }, { limit: 50 });
      expect(listed.items).toEqual([]);
    });

    it('refuses a second key with the same digest or lookup id (StoreConflict)', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id);
      await expect(store.keys.insert({ ...keyRecord(org.id), secret: key.secret })).rejects.toBeInstanceOf(StoreConflict);
      await expect(store.keys.insert({ ...keyRecord(org.id), lookupId: key.lookupId })).rejects.toBeInstanceOf(StoreConflict);
    });

    it('filters by status at the expiry boundary: expiresAt equal to now is expired', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const now = new Date('2030-05-01T00:00:00Z');
      const active = await seedKey(store, org.id, { name: 'active', expiresAt: new Date(now.getTime() + 1) });
      const expired = await seedKey(store, org.id, { name: 'expired', expiresAt: now });
      const revoked = await seedKey(store, org.id, { name: 'revoked', revokedAt: now, expiresAt: new Date(0) });
      const disabled = await seedKey(store, org.id, { name: 'disabled', disabledAt: now });
      const names = async (status: 'active' | 'expired' | 'revoked' | 'disabled' | 'all') =>
        (await store.keys.list(org.id, { status, now }, { limit: 50 })).items.map((k) => k.id).sort();
      expect(await names('active')).toEqual([active.id]);
      expect(await names('expired')).toEqual([expired.id]);
      expect(await names('revoked')).toEqual([revoked.id]);
      expect(await names('disabled')).toEqual([disabled.id]);
      expect(await names('all')).toEqual([active.id, expired.id, revoked.id, disabled.id].sort());
    });

    it('searches names case-insensitively, treating % and _ literally', async () => {
      const store = await open();
      const org = await seedOrg(store);
      await seedKey(store, org.id, { name: '50% off' });
      await seedKey(store, org.id, { name: 'a_b' });
      await seedKey(store, org.id, { name: 'axb' });
      const find = async (q: string) => (await store.keys.list(org.id, { status: 'all', q, now: new Date() }, { limit: 50 })).items.map((k) => k.name).sort();
      expect(await find('%')).toEqual(['50% off']);
      expect(await find('_')).toEqual(['a_b']);
      expect(await find('A_B')).toEqual(['a_b']);
      expect(await find('OFF')).toEqual(['50% off']);
    });

    it('shows a member their own and created keys and service keys only', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const me = await seedMember(store, org.id);
      const someone = await seedMember(store, org.id);
      const mine = await seedKey(store, org.id, { ownerUserId: me.id });
      const made = await seedKey(store, org.id, { ownerUserId: someone.id, createdByUserId: me.id });
      const service = await seedKey(store, org.id, { keyType: 'service' });
      await seedKey(store, org.id, { ownerUserId: someone.id });
      const visible = await store.keys.list(org.id, { status: 'all', visibleToUserId: me.id, now: new Date() }, { limit: 50 });
      expect(visible.items.map((k) => k.id).sort()).toEqual([mine.id, made.id, service.id].sort());
    });

    it('pages newest first with stable cursors, even on equal timestamps, and refuses forged cursors', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const at = new Date('2030-01-01T00:00:00Z');
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await seedKey(store, org.id, { createdAt: i < 4 ? at : new Date(at.getTime() + i * 1000) })).id);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<Store['keys']['list']>> = await store.keys.list(org.id, { status: 'all', now: new Date() }, { limit: 3, cursor });
        seen.push(...page.items.map((k) => k.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(7);
      expect(new Set(seen).size).toBe(7);
      expect(seen.slice(0, 3)).toEqual([ids[6], ids[5], ids[4]]);
      await expect(store.keys.list(org.id, { status: 'all', now: new Date() }, { limit: 3, cursor: 'not-a-cursor!' })).rejects.toMatchObject({ code: 'invalid_field' });
      await expect(store.keys.list(org.id, { status: 'all', now: new Date() }, { limit: 3, cursor: Buffer.from('["x"]').toString('base64url') })).rejects.toMatchObject({ code: 'invalid_field' });
    });

    it('revokes exactly once, and disables only personal keys of the owner', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const owner = await seedMember(store, org.id);
      const personal = await seedKey(store, org.id, { ownerUserId: owner.id });
      const revoked = await seedKey(store, org.id, { ownerUserId: owner.id, revokedAt: new Date() });
      const service = await seedKey(store, org.id, { keyType: 'service', createdByUserId: owner.id });
      const results = await Promise.all(Array.from({ length: 5 }, () => store.keys.setRevoked(org.id, personal.id, new Date(), 'test')));
      expect(results.filter(Boolean)).toHaveLength(1);
      const other = await seedKey(store, org.id, { ownerUserId: owner.id });
      expect(await store.keys.disablePersonalKeysOf(org.id, owner.id, new Date())).toEqual([other.id]);
      expect((await store.keys.findById(org.id, revoked.id))!.disabledAt).toBeNull();
      expect((await store.keys.findById(org.id, service.id))!.disabledAt).toBeNull();
    });

    it('raises lastUsedAt and never lowers it', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id);
      const later = new Date('2030-02-01T00:00:00Z');
      await store.keys.touchLastUsed([{ keyId: key.id, at: later }]);
      await store.keys.touchLastUsed([{ keyId: key.id, at: new Date('2030-01-15T00:00:00Z') }]);
      expect((await store.keys.findById(org.id, key.id))!.lastUsedAt).toEqual(later);
    });

    it('counts active keys of an owner', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const owner = await seedMember(store, org.id);
      await seedKey(store, org.id, { ownerUserId: owner.id });
      await seedKey(store, org.id, { ownerUserId: owner.id, revokedAt: new Date() });
      await seedKey(store, org.id, { ownerUserId: owner.id, expiresAt: new Date(Date.now() - 1000) });
      expect(await store.keys.countActiveForOwner(org.id, owner.id, new Date())).toBe(1);
      expect(await store.keys.countActiveForOwner(nextOrg(), owner.id, new Date())).toBe(0);
    });
  });
}

const nextOrg = () => `org_${randomBytes(6).toString('hex')}` as OrgId;
