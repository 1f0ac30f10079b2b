import { randomBytes } from 'node:crypto';
import { StoreConflict, type PasswordReset, type Session, type Store, type UserId } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { at, nextId, seedUser } from './seed.js';

/**
 * What a password change and a password reset rely on (issue 12): ending a person's sessions, a
 * password hash replaced only while it is the one checked, and one-time reset tokens spent by one
 * conditional update.
 */
export function accountStoreContract(open: () => Promise<Store>) {
  const sessionOf = (userId: UserId, fields: Partial<Session> = {}): Session => ({
    id: nextId('ses'),
    userId,
    tokenDigest: randomBytes(32).toString('hex'),
    createdAt: at(),
    expiresAt: at(3600),
    revokedAt: null,
    ...fields,
  });
  const resetOf = (userId: UserId, fields: Partial<PasswordReset> = {}): PasswordReset => ({
    tokenDigest: randomBytes(32).toString('hex'),
    userId,
    createdAt: at(),
    expiresAt: at(3600),
    usedAt: null,
    ...fields,
  });

  describe('SessionRepository.revokeAllForUser', () => {
    it("ends the person's live sessions but the one kept, counts them, and leaves other people's, revoked and expired ones as they were", async () => {
      const store = await open();
      const user = await seedUser(store);
      const other = await seedUser(store);
      const kept = sessionOf(user.id);
      const live = [sessionOf(user.id), sessionOf(user.id)];
      const revoked = sessionOf(user.id, { revokedAt: at(5) });
      const expired = sessionOf(user.id, { expiresAt: at(9) });
      const someoneElses = sessionOf(other.id);
      for (const s of [kept, ...live, revoked, expired, someoneElses]) await store.sessions.insert(s);

      expect(await store.sessions.revokeAllForUser(user.id, at(10), kept.id)).toBe(2);
      expect(await store.sessions.findByDigest(kept.tokenDigest)).toEqual(kept);
      for (const s of live) expect(await store.sessions.findByDigest(s.tokenDigest)).toEqual({ ...s, revokedAt: at(10) });
      expect(await store.sessions.findByDigest(revoked.tokenDigest)).toEqual(revoked);
      expect(await store.sessions.findByDigest(expired.tokenDigest)).toEqual(expired);
      expect(await store.sessions.findByDigest(someoneElses.tokenDigest)).toEqual(someoneElses);

      expect(await store.sessions.revokeAllForUser(user.id, at(20))).toBe(1);
      expect(await store.sessions.findByDigest(kept.tokenDigest)).toEqual({ ...kept, revokedAt: at(20) });
      expect(await store.sessions.revokeAllForUser(user.id, at(30))).toBe(0);
    });
  });

  describe('UserRepository.replacePasswordHash', () => {
    it('replaces the hash only while it is the expected one', async () => {
      const store = await open();
      const user = await seedUser(store, { passwordHash: 'scrypt$old' });
      expect(await store.users.replacePasswordHash(user.id, 'scrypt$other', 'scrypt$new')).toBe(false);
      expect((await store.users.findById(user.id))?.passwordHash).toBe('scrypt$old');
      expect(await store.users.replacePasswordHash(user.id, 'scrypt$old', 'scrypt$new')).toBe(true);
      expect(await store.users.findById(user.id)).toEqual({ ...user, passwordHash: 'scrypt$new' });
      expect(await store.users.replacePasswordHash(user.id, 'scrypt$old', 'scrypt$newer')).toBe(false);
      expect(await store.users.replacePasswordHash(nextId('usr'), 'scrypt$new', 'scrypt$newer')).toBe(false);
    });
  });

  describe('PasswordResetRepository', () => {
    it('finds a reset by its digest and spends it once, only before it expires', async () => {
      const store = await open();
      const user = await seedUser(store);
      const reset = resetOf(user.id);
      await store.passwordResets.insert(reset);
      await expect(store.passwordResets.insert(reset)).rejects.toBeInstanceOf(StoreConflict);
      expect(await store.passwordResets.findByDigest(reset.tokenDigest)).toEqual(reset);
      expect(await store.passwordResets.findByDigest(randomBytes(32).toString('hex'))).toBeNull();

      expect(await store.passwordResets.markUsed(reset.tokenDigest, at(10))).toBe(true);
      expect(await store.passwordResets.markUsed(reset.tokenDigest, at(11))).toBe(false);
      expect(await store.passwordResets.findByDigest(reset.tokenDigest)).toEqual({ ...reset, usedAt: at(10) });

      const expiring = resetOf(user.id, { expiresAt: at(100) });
      await store.passwordResets.insert(expiring);
      expect(await store.passwordResets.markUsed(expiring.tokenDigest, at(100))).toBe(false);
      expect(await store.passwordResets.findByDigest(expiring.tokenDigest)).toEqual(expiring);
      expect(await store.passwordResets.markUsed(randomBytes(32).toString('hex'), at(1))).toBe(false);
    });

    it("lets exactly one of concurrent spends of one token succeed", async () => {
      const store = await open();
      const user = await seedUser(store);
      const reset = resetOf(user.id);
      await store.passwordResets.insert(reset);
      const spends = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.transaction((tx) => tx.passwordResets.markUsed(reset.tokenDigest, at(10 + i)))),
      );
      expect(spends.filter(Boolean)).toHaveLength(1);
    });

    it("voids the person's unused resets and no one else's, counting them", async () => {
      const store = await open();
      const user = await seedUser(store);
      const other = await seedUser(store);
      const pending = [resetOf(user.id), resetOf(user.id)];
      const spent = resetOf(user.id, { usedAt: at(3) });
      const someoneElses = resetOf(other.id);
      for (const r of [...pending, spent, someoneElses]) await store.passwordResets.insert(r);
      expect(await store.passwordResets.voidForUser(user.id, at(7))).toBe(2);
      for (const r of pending) expect(await store.passwordResets.findByDigest(r.tokenDigest)).toEqual({ ...r, usedAt: at(7) });
      expect(await store.passwordResets.findByDigest(spent.tokenDigest)).toEqual(spent);
      expect(await store.passwordResets.findByDigest(someoneElses.tokenDigest)).toEqual(someoneElses);
      expect(await store.passwordResets.voidForUser(user.id, at(8))).toBe(0);
    });
  });
}
