import { randomBytes } from 'node:crypto';
import { StoreConflict, type KeyListFilter, type KeyStatus, type Store } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { expectForgedCursorsRefused, pageThrough } from './page-through.js';
import { at, keyRecord, seedKey, seedMember, seedOrg } from './seed.js';

/** KeyRepository: lookups, lists and their filters, conditional updates, and tenant isolation. */
export function keyStoreContract(open: () => Promise<Store>) {
  describe('KeyRepository', () => {
    it('round-trips every field of a key, and finds it by lookup id and by current or previous digest', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = keyRecord(org.id, {
        description: 'd',
        ownerUserId: 'usr_owner',
        createdByUserId: 'usr_creator',
        createdByKeyId: 'key_creator',
        projectId: 'proj_p',
        bindings: [{ role: 'CUSTOM', scopeType: 'PROJECT', scopeId: 'proj_1', permissions: ['traces:read'] }],
        permissionMode: 'restricted',
        permissions: ['traces:read'],
        scopes: [{ action: 'read', resource: 'projects/*' }],
        allowedCidrs: ['10.0.0.0/8', '::/0'],
        expiresAt: new Date('2031-01-01T00:00:00.123Z'),
        lastUsedAt: at(5),
        previousSecret: { digest: randomBytes(32).toString('hex'), pepperVersion: 2 },
        previousSecretExpiresAt: at(60),
        rateLimits: [
          { name: 'burst', limit: 10, windowSeconds: 1 },
          { name: 'daily', limit: 1_000_000_000, windowSeconds: 86_400 },
        ],
        credits: { remaining: 999_999_999, refill: { amount: 1_000_000_000, interval: 'month' }, version: 1_800_000_000_123, period: 733 },
      });
      await store.keys.insert(key);
      expect(await store.keys.findById(org.id, key.id)).toEqual(key);
      expect(await store.keys.findForVerificationByLookupId(key.lookupId!)).toEqual(key);
      expect(await store.keys.findForVerificationByDigest(key.secret.digest)).toEqual(key);
      expect(await store.keys.findForVerificationByDigest(key.previousSecret!.digest)).toEqual(key);
      expect(await store.keys.findForVerificationByLookupId(randomBytes(8).toString('hex'))).toBeNull();
      expect(await store.keys.findForVerificationByDigest(randomBytes(32).toString('hex'))).toBeNull();
    });

    it('never returns, changes, revokes, disables or counts a key for another organization, even given its exact id', async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const owner = await seedMember(store, a.id);
      const key = await seedKey(store, a.id, { ownerUserId: owner.id, createdByUserId: owner.id });
      const later = at(3600);
      expect(await store.keys.findById(b.id, key.id)).toBeNull();
      await store.keys.update(b.id, key.id, { name: 'pwned', expiresAt: at(1), scopes: [], updatedAt: later });
      expect(await store.keys.setRevoked(b.id, key.id, later, 'x')).toBe(false);
      const secret = { digest: randomBytes(32).toString('hex'), pepperVersion: 1 };
      await store.keys.setSecret(b.id, key.id, { secret, previousSecret: null, previousSecretExpiresAt: null, preview: 'x', updatedAt: later });
      expect(await store.keys.disablePersonalKeysOf(b.id, owner.id, later)).toEqual([]);
      expect(await store.keys.countActiveForOwner(b.id, owner.id, at())).toBe(0);
      expect((await store.keys.list(b.id, { status: 'all', now: at() }, { limit: 50 })).items).toEqual([]);
      expect((await store.keys.list(b.id, { status: 'all', visibleToUserId: owner.id, now: at() }, { limit: 50 })).items).toEqual([]);
      expect(await store.keys.findForVerificationByDigest(secret.digest)).toBeNull();
      expect(await store.keys.findById(a.id, key.id)).toEqual(key);
    });

    it('updates the fields of a patch and leaves the others', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id, { description: 'keep', expiresAt: at(100) });
      const patch = { name: 'Renamed', expiresAt: null, scopes: [{ action: 'write' as const, resource: 'x/*' }], allowedCidrs: ['192.0.2.0/24'], updatedAt: at(10) };
      await store.keys.update(org.id, key.id, patch);
      expect(await store.keys.findById(org.id, key.id)).toEqual({ ...key, ...patch });
      const found = await store.keys.list(org.id, { status: 'all', q: 'renamed', now: at() }, { limit: 5 });
      expect(found.items.map((k) => k.id)).toEqual([key.id]);
    });

    it('replaces the secret, keeping the previous one findable until the caller drops it', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id);
      const next = { digest: randomBytes(32).toString('hex'), pepperVersion: 2 };
      await store.keys.setSecret(org.id, key.id, { secret: next, previousSecret: key.secret, previousSecretExpiresAt: at(60), preview: 'kw_…wxyz', updatedAt: at(1) });
      const rolled = await store.keys.findById(org.id, key.id);
      expect(rolled).toMatchObject({ secret: next, previousSecret: key.secret, previousSecretExpiresAt: at(60), preview: 'kw_…wxyz', updatedAt: at(1) });
      expect((await store.keys.findForVerificationByDigest(key.secret.digest))?.id).toBe(key.id);
      await store.keys.setSecret(org.id, key.id, { secret: next, previousSecret: null, previousSecretExpiresAt: null, preview: 'kw_…wxyz', updatedAt: at(2) });
      expect(await store.keys.findForVerificationByDigest(key.secret.digest)).toBeNull();
    });

    it('refuses a second key with the same id, digest or lookup id as a StoreConflict', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id);
      await expect(store.keys.insert({ ...keyRecord(org.id), secret: key.secret })).rejects.toBeInstanceOf(StoreConflict);
      await expect(store.keys.insert({ ...keyRecord(org.id), lookupId: key.lookupId })).rejects.toBeInstanceOf(StoreConflict);
      await expect(store.keys.insert({ ...keyRecord(org.id), id: key.id })).rejects.toBeInstanceOf(StoreConflict);
      // Project keys have no lookup id: any number of them.
      await seedKey(store, org.id, { keyType: 'project', lookupId: null });
      await seedKey(store, org.id, { keyType: 'project', lookupId: null });
    });

    it('filters by status at the expiry boundary: expiresAt equal to now is expired, one millisecond later is active', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const now = at(1000);
      const active = await seedKey(store, org.id, { expiresAt: new Date(now.getTime() + 1) });
      const forever = await seedKey(store, org.id, { expiresAt: null });
      const expired = await seedKey(store, org.id, { expiresAt: now });
      const revoked = await seedKey(store, org.id, { revokedAt: now, expiresAt: new Date(0), disabledAt: now });
      const disabled = await seedKey(store, org.id, { disabledAt: now, expiresAt: new Date(0) });
      const ids = async (status: KeyStatus | 'all') => (await store.keys.list(org.id, { status, now }, { limit: 50 })).items.map((k) => k.id).sort();
      expect(await ids('active')).toEqual([active.id, forever.id].sort());
      expect(await ids('expired')).toEqual([expired.id]);
      expect(await ids('revoked')).toEqual([revoked.id]);
      expect(await ids('disabled')).toEqual([disabled.id]);
      expect(await ids('all')).toEqual([active.id, forever.id, expired.id, revoked.id, disabled.id].sort());
    });

    it('searches names case-insensitively, treating %, _ and \\ literally', async () => {
      const store = await open();
      const org = await seedOrg(store);
      for (const name of ['50% off', '500 off', 'a_b', 'axb', 'back\\slash', 'backslash', 'Production API']) await seedKey(store, org.id, { name });
      const names = async (q: string) => (await store.keys.list(org.id, { status: 'all', q, now: at() }, { limit: 50 })).items.map((k) => k.name).sort();
      expect(await names('%')).toEqual(['50% off']);
      expect(await names('0%')).toEqual(['50% off']);
      expect(await names('_')).toEqual(['a_b']);
      expect(await names('A_B')).toEqual(['a_b']);
      expect(await names('\\')).toEqual(['back\\slash']);
      expect(await names('OFF')).toEqual(['50% off', '500 off']);
      expect(await names('production api')).toEqual(['Production API']);
      expect(await names('nothing')).toEqual([]);
    });

    it('shows a member the keys they own and service keys, not those they only created, and filters by key type', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const me = await seedMember(store, org.id);
      const someone = await seedMember(store, org.id);
      const mine = await seedKey(store, org.id, { ownerUserId: me.id, createdByUserId: me.id });
      const made = await seedKey(store, org.id, { ownerUserId: someone.id, createdByUserId: me.id });
      const service = await seedKey(store, org.id, { keyType: 'service', createdByUserId: someone.id });
      const theirs = await seedKey(store, org.id, { ownerUserId: someone.id, createdByUserId: someone.id });
      const project = await seedKey(store, org.id, { keyType: 'project', lookupId: null, createdByUserId: someone.id });
      const list = (filter: Partial<KeyListFilter>) => store.keys.list(org.id, { status: 'all', now: at(), ...filter }, { limit: 50 });
      const ids = async (filter: Partial<KeyListFilter>) => (await list(filter)).items.map((k) => k.id).sort();
      expect(await ids({ visibleToUserId: me.id })).toEqual([mine.id, service.id].sort());
      expect(await ids({ visibleToUserId: someone.id })).toEqual([made.id, service.id, theirs.id].sort());
      expect(await ids({ keyType: 'service' })).toEqual([service.id]);
      expect(await ids({ keyType: 'personal', visibleToUserId: me.id })).toEqual([mine.id]);
      expect(await ids({ keyType: 'project' })).toEqual([project.id]);
    });

    it('pages newest first (createdAt, then id) with stable cursors through equal timestamps, a null cursor at the end', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const keys = [];
      for (let i = 0; i < 11; i++) keys.push(await seedKey(store, org.id, { createdAt: at(i < 5 ? 0 : i) }));
      const expected = [...keys].sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime() || (x.id < y.id ? 1 : -1)).map((k) => k.id);
      for (const limit of [1, 3, 4, 11, 50]) {
        const { ids, pages } = await pageThrough((page) => store.keys.list(org.id, { status: 'all', now: at() }, page), limit, (k) => k.id);
        expect(ids).toEqual(expected);
        expect(pages).toBe(Math.max(1, Math.ceil(11 / limit)));
      }
      // A filtered list pages the same way.
      const active = await pageThrough((page) => store.keys.list(org.id, { status: 'active', keyType: 'personal', now: at() }, page), 2, (k) => k.id);
      expect(active.ids).toEqual(expected);
    });

    it('refuses forged cursors with an invalid_field error on cursor', async () => {
      const store = await open();
      const org = await seedOrg(store);
      await expectForgedCursorsRefused((page) => store.keys.list(org.id, { status: 'all', now: at() }, page));
    });

    it('revokes exactly once under concurrency, and the first revocation stands', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id);
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.keys.setRevoked(org.id, key.id, at(i + 1), `reason ${i}`)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(await store.keys.findById(org.id, key.id)).toMatchObject({ revokedAt: at(winner + 1), revokedReason: `reason ${winner}` });
      expect(await store.keys.setRevoked(org.id, key.id, at(100), 'again')).toBe(false);
    });

    it('disables only the live personal keys of the owner, and returns their ids', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const owner = await seedMember(store, org.id);
      const other = await seedMember(store, org.id);
      const live = [await seedKey(store, org.id, { ownerUserId: owner.id }), await seedKey(store, org.id, { ownerUserId: owner.id })];
      const revoked = await seedKey(store, org.id, { ownerUserId: owner.id, revokedAt: at() });
      const disabled = await seedKey(store, org.id, { ownerUserId: owner.id, disabledAt: at() });
      const service = await seedKey(store, org.id, { keyType: 'service', ownerUserId: owner.id, createdByUserId: owner.id });
      const someoneElses = await seedKey(store, org.id, { ownerUserId: other.id });
      expect(await store.keys.disablePersonalKeysOf(org.id, owner.id, at(50))).toEqual(live.map((k) => k.id).sort());
      for (const k of live) expect(await store.keys.findById(org.id, k.id)).toMatchObject({ disabledAt: at(50), updatedAt: at(50) });
      expect((await store.keys.findById(org.id, revoked.id))!.disabledAt).toBeNull();
      expect((await store.keys.findById(org.id, disabled.id))!.disabledAt).toEqual(at());
      expect((await store.keys.findById(org.id, service.id))!.disabledAt).toBeNull();
      expect((await store.keys.findById(org.id, someoneElses.id))!.disabledAt).toBeNull();
      expect(await store.keys.disablePersonalKeysOf(org.id, owner.id, at(60))).toEqual([]);
    });

    it('raises lastUsedAt to the latest instant of a batch and never lowers it', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const fresh = await seedKey(store, org.id);
      const used = await seedKey(store, org.id, { lastUsedAt: at(100) });
      await store.keys.touchLastUsed([
        { keyId: fresh.id, at: at(10) },
        { keyId: fresh.id, at: at(30) },
        { keyId: fresh.id, at: at(20) },
        { keyId: used.id, at: at(50) },
        { keyId: 'key_unknown', at: at(50) },
      ]);
      expect((await store.keys.findById(org.id, fresh.id))!.lastUsedAt).toEqual(at(30));
      expect((await store.keys.findById(org.id, used.id))!.lastUsedAt).toEqual(at(100));
      await store.keys.touchLastUsed([{ keyId: used.id, at: at(101) }]);
      expect((await store.keys.findById(org.id, used.id))!.lastUsedAt).toEqual(at(101));
      await store.keys.touchLastUsed([]);
    });

    it('touches batches larger than one statement', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const keys = await store.transaction(async (tx) => Promise.all(Array.from({ length: 520 }, () => seedKey(tx, org.id))));
      await store.keys.touchLastUsed(keys.map((k, i) => ({ keyId: k.id, at: at(i) })));
      const touched = await pageThrough((page) => store.keys.list(org.id, { status: 'all', now: at() }, page), 100, (k) => k.id);
      const byId = new Map(touched.items.map((k) => [k.id, k.lastUsedAt?.getTime()]));
      expect(keys.every((k, i) => byId.get(k.id) === at(i).getTime())).toBe(true);
    });

    it('counts the active keys of an owner, with expiresAt equal to now not active', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const owner = await seedMember(store, org.id);
      const now = at(100);
      await seedKey(store, org.id, { ownerUserId: owner.id });
      await seedKey(store, org.id, { ownerUserId: owner.id, expiresAt: new Date(now.getTime() + 1) });
      await seedKey(store, org.id, { ownerUserId: owner.id, expiresAt: now });
      await seedKey(store, org.id, { ownerUserId: owner.id, revokedAt: at() });
      await seedKey(store, org.id, { ownerUserId: owner.id, disabledAt: at() });
      expect(await store.keys.countActiveForOwner(org.id, owner.id, now)).toBe(2);
    });

    it('spends credits under their version and period only, refilling first in a newer period, never below zero', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id, { credits: { remaining: 100, refill: { amount: 500, interval: 'day' }, version: 7, period: 20 } });
      const plain = await seedKey(store, org.id);
      await store.keys.spendCredits([
        { keyId: key.id, version: 7, period: 20, amount: 30 },
        // Under an older version: already in the amount an administrator set since. Ignored.
        { keyId: key.id, version: 6, period: 20, amount: 1000 },
        // A key without credits has nothing to spend.
        { keyId: plain.id, version: 0, period: 0, amount: 5 },
      ]);
      expect((await store.keys.findById(org.id, key.id))!.credits).toEqual({ remaining: 70, refill: { amount: 500, interval: 'day' }, version: 7, period: 20 });
      // The next day: the refill first, then the spending.
      await store.keys.spendCredits([{ keyId: key.id, version: 7, period: 21, amount: 40 }]);
      expect((await store.keys.findById(org.id, key.id))!.credits).toMatchObject({ remaining: 460, period: 21 });
      // Spending of an earlier period, written late, is not taken from the refilled amount.
      await store.keys.spendCredits([{ keyId: key.id, version: 7, period: 20, amount: 10 }]);
      expect((await store.keys.findById(org.id, key.id))!.credits!.remaining).toBe(460);
      await store.keys.spendCredits([{ keyId: key.id, version: 7, period: 21, amount: 10_000 }]);
      expect((await store.keys.findById(org.id, key.id))!.credits!.remaining).toBe(0);
      expect((await store.keys.findById(org.id, plain.id))!.credits).toBeNull();
    });

    it("sets credits for an administrator's change, and keeps their version when they become unlimited", async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = await seedKey(store, org.id, { credits: { remaining: 5, refill: null, version: 3, period: 0 } });
      await store.transaction(async (tx) => {
        expect((await tx.keys.findByIdForUpdate(org.id, key.id))!.credits!.remaining).toBe(5);
        await tx.keys.setCredits(org.id, key.id, { remaining: 42, version: 4, period: 0 }, at(9));
      });
      expect((await store.keys.findById(org.id, key.id))!).toMatchObject({ credits: { remaining: 42, version: 4 }, updatedAt: at(9) });
      await store.keys.update(org.id, key.id, { credits: null, updatedAt: at(10) });
      expect((await store.keys.findById(org.id, key.id))!.credits).toBeNull();
      expect(await store.keys.creditsVersion(org.id, key.id)).toBe(4);
      // No credits to set on an unlimited key; another organization sees nothing.
      await store.keys.setCredits(org.id, key.id, { remaining: 1, version: 5, period: 0 }, at(11));
      expect((await store.keys.findById(org.id, key.id))!.credits).toBeNull();
      const other = await seedOrg(store);
      expect(await store.keys.findByIdForUpdate(other.id, key.id)).toBeNull();
      expect(await store.keys.creditsVersion(other.id, key.id)).toBe(0);
    });
  });
}
