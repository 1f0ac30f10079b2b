import { StoreConflict, type Store } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { expectForgedCursorsRefused, pageThrough } from './page-through.js';
import { at, invitationRecord, nextId, seedMember, seedOrg, seedUser } from './seed.js';

/** Memberships and invitations: every organization sees, changes and removes only its own. */
export function memberStoreContract(open: () => Promise<Store>) {
  describe('MemberRepository', () => {
    it('finds, views, updates, counts owners and deletes a membership', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const user = await seedUser(store, { name: 'Ada' });
      const membership = { orgId: org.id, userId: user.id, role: 'OWNER' as const, status: 'active' as const, createdAt: at(1) };
      await store.members.insert(membership);
      await expect(store.members.insert(membership)).rejects.toBeInstanceOf(StoreConflict);
      expect(await store.members.find(org.id, user.id)).toEqual(membership);
      expect(await store.members.findForUpdate(org.id, user.id)).toEqual(membership);
      expect(await store.members.findView(org.id, user.id)).toEqual({ ...membership, email: user.email, name: 'Ada' });
      await seedMember(store, org.id, 'OWNER');
      await store.members.insert({ orgId: org.id, userId: (await seedUser(store)).id, role: 'OWNER', status: 'invited', createdAt: at(2) });
      await seedMember(store, org.id, 'ADMIN');
      expect(await store.members.countActiveOwners(org.id)).toBe(2);
      await store.members.update(org.id, user.id, { role: 'ADMIN' });
      await store.members.update(org.id, user.id, {});
      expect(await store.members.find(org.id, user.id)).toEqual({ ...membership, role: 'ADMIN' });
      expect(await store.members.countActiveOwners(org.id)).toBe(1);
      await store.members.delete(org.id, user.id);
      expect(await store.members.find(org.id, user.id)).toBeNull();
    });

    it('never returns, changes, counts or removes a membership for another organization', async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const user = await seedMember(store, a.id, 'OWNER');
      expect(await store.members.find(b.id, user.id)).toBeNull();
      expect(await store.members.findForUpdate(b.id, user.id)).toBeNull();
      expect(await store.members.findView(b.id, user.id)).toBeNull();
      await store.members.update(b.id, user.id, { role: 'VIEWER', status: 'invited' });
      await store.members.delete(b.id, user.id);
      expect(await store.members.find(a.id, user.id)).toMatchObject({ role: 'OWNER', status: 'active' });
      expect((await store.members.list(b.id, { limit: 10 })).items).toEqual([]);
      expect(await store.members.countActiveOwners(b.id)).toBe(0);
    });

    it("serializes membership changes of one organization: a second lockMemberships waits for the first transaction to end, another organization's does not", async () => {
      const store = await open();
      const org = await seedOrg(store);
      const owner = await seedMember(store, org.id, 'OWNER');
      const events: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let signalLocked!: () => void;
      const locked = new Promise<void>((resolve) => (signalLocked = resolve));
      const first = store.transaction(async (tx) => {
        await tx.members.lockMemberships(org.id);
        signalLocked();
        await held;
        await tx.members.update(org.id, owner.id, { role: 'ADMIN' });
        events.push('first committed');
      });
      await locked;
      const second = store.transaction(async (tx) => {
        await tx.members.lockMemberships(org.id);
        events.push(`second counts ${await tx.members.countActiveOwners(org.id)}`);
      });
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(events).toEqual([]);
      release();
      await Promise.all([first, second]);
      expect(events).toEqual(['first committed', 'second counts 0']);
      if (store.dialect === 'postgres') {
        // Row-level: another organization's membership changes go on meanwhile.
        const other = await seedOrg(store);
        let releaseAgain!: () => void;
        const heldAgain = new Promise<void>((resolve) => (releaseAgain = resolve));
        let signalAgain!: () => void;
        const lockedAgain = new Promise<void>((resolve) => (signalAgain = resolve));
        const holder = store.transaction(async (tx) => {
          await tx.members.lockMemberships(org.id);
          signalAgain();
          await heldAgain;
        });
        await lockedAgain;
        await store.transaction((tx) => tx.members.lockMemberships(other.id));
        await seedMember(store, org.id, 'VIEWER');
        releaseAgain();
        await holder;
      }
    });

    it('pages members oldest first, through equal timestamps, with a null cursor at the end', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const users = [];
      for (let i = 0; i < 7; i++) users.push(await seedMember(store, org.id, 'VIEWER', at(i < 3 ? 0 : i)));
      const expected = users
        .map((u, i) => ({ id: u.id as string, t: i < 3 ? 0 : i }))
        .sort((x, y) => x.t - y.t || (x.id < y.id ? -1 : 1))
        .map((u) => u.id);
      for (const limit of [1, 2, 7]) {
        const { ids } = await pageThrough((page) => store.members.list(org.id, page), limit, (m) => m.userId);
        expect(ids).toEqual(expected);
      }
      await expectForgedCursorsRefused((page) => store.members.list(org.id, page));
    });
  });

  describe('InvitationRepository', () => {
    it('finds an invitation by its digest in any organization and accepts it exactly once under concurrency', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const user = await seedUser(store);
      const invitation = invitationRecord(org.id, user.id, { createdByUserId: user.id });
      await store.invitations.insert(invitation);
      await expect(store.invitations.insert({ ...invitationRecord(org.id, user.id), tokenDigest: invitation.tokenDigest })).rejects.toBeInstanceOf(StoreConflict);
      expect(await store.invitations.findByDigest(invitation.tokenDigest)).toEqual(invitation);
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store.invitations.markAccepted(invitation.id, at(i + 1))));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.invitations.findByDigest(invitation.tokenDigest))!.acceptedAt).toEqual(at(results.indexOf(true) + 1));
      expect(await store.invitations.markAccepted(invitation.id, at(50))).toBe(false);
    });

    it('spends password attempts one at a time, never more than the limit under concurrency, and none on an accepted invitation', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const user = await seedUser(store);
      const invitation = invitationRecord(org.id, user.id);
      await store.invitations.insert(invitation);
      expect(await store.invitations.spendPasswordAttempt(invitation.id, 5)).toBe(1);
      expect((await store.invitations.findByDigest(invitation.tokenDigest))!.passwordAttempts).toBe(1);
      const results = await Promise.all(Array.from({ length: 12 }, () => store.invitations.spendPasswordAttempt(invitation.id, 5)));
      expect(results.filter((n) => n !== null).sort()).toEqual([2, 3, 4, 5]);
      expect(results.filter((n) => n === null)).toHaveLength(8);
      expect((await store.invitations.findByDigest(invitation.tokenDigest))!.passwordAttempts).toBe(5);
      expect(await store.invitations.spendPasswordAttempt(invitation.id, 5)).toBeNull();
      expect(await store.invitations.spendPasswordAttempt(nextId('inv'), 5)).toBeNull();

      const accepted = invitationRecord(org.id, user.id, { passwordAttempts: 2 });
      await store.invitations.insert(accepted);
      expect((await store.invitations.findByDigest(accepted.tokenDigest))!.passwordAttempts).toBe(2);
      expect(await store.invitations.markAccepted(accepted.id, at(5))).toBe(true);
      expect(await store.invitations.spendPasswordAttempt(accepted.id, 5)).toBeNull();
      expect((await store.invitations.findByDigest(accepted.tokenDigest))!.passwordAttempts).toBe(2);
    });

    it("deletes a user's invitations of one organization only", async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const user = await seedUser(store);
      const inA = invitationRecord(a.id, user.id);
      const inB = invitationRecord(b.id, user.id);
      await store.invitations.insert(inA);
      await store.invitations.insert(inB);
      await store.invitations.deleteForUser(b.id, user.id);
      expect(await store.invitations.findByDigest(inA.tokenDigest)).toEqual(inA);
      expect(await store.invitations.findByDigest(inB.tokenDigest)).toBeNull();
    });
  });
}
