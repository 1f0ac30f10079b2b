import { randomBytes } from 'node:crypto';
import { StoreConflict, type Session, type Store, type VerifierRecord } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { at, nextId, seedOrg, seedUser } from './seed.js';

/** Organizations, users, sessions and verifiers: the records that establish tenants and principals. */
export function orgStoreContract(open: () => Promise<Store>) {
  describe('OrgRepository', () => {
    it('inserts, finds, updates and counts organizations', async () => {
      const store = await open();
      const before = await store.orgs.count();
      const org = await seedOrg(store, { name: 'Acme', signingAlgorithm: 'RS256', accessTokenTtlSeconds: 300 });
      expect(await store.orgs.findById(org.id)).toEqual(org);
      expect(await store.orgs.findById(nextId('org'))).toBeNull();
      await store.orgs.update(org.id, { name: 'Acme 2', accessTokenTtlSeconds: 900 });
      await store.orgs.update(org.id, {});
      expect(await store.orgs.findById(org.id)).toEqual({ ...org, name: 'Acme 2', accessTokenTtlSeconds: 900 });
      expect(await store.orgs.count()).toBeGreaterThanOrEqual(before + 1);
      await expect(store.orgs.insert(org)).rejects.toBeInstanceOf(StoreConflict);
    });

    it('marks an organization bootstrapped exactly once under concurrency, and changes no other organization', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const other = await seedOrg(store);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.orgs.markBootstrapped(org.id, at(i + 1))));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.orgs.findById(org.id))!.bootstrappedAt).toEqual(at(results.indexOf(true) + 1));
      expect(await store.orgs.markBootstrapped(org.id, at(99))).toBe(false);
      expect((await store.orgs.findById(other.id))!.bootstrappedAt).toBeNull();
      await store.orgs.update(other.id, { name: 'changed' });
      expect((await store.orgs.findById(org.id))!.name).toBe('Org');
    });

    it("lists a user's organizations with roles, active memberships only, oldest membership first", async () => {
      const store = await open();
      const [a, b, c] = [await seedOrg(store, { name: 'A' }), await seedOrg(store, { name: 'B' }), await seedOrg(store, { name: 'C' })];
      const user = await seedUser(store);
      const someone = await seedUser(store);
      await store.members.insert({ orgId: b.id, userId: user.id, role: 'ADMIN', status: 'active', createdAt: at(2) });
      await store.members.insert({ orgId: a.id, userId: user.id, role: 'VIEWER', status: 'active', createdAt: at(1) });
      await store.members.insert({ orgId: c.id, userId: user.id, role: 'OWNER', status: 'invited', createdAt: at(3) });
      await store.members.insert({ orgId: c.id, userId: someone.id, role: 'OWNER', status: 'active', createdAt: at(0) });
      const orgs = await store.orgs.listForUser(user.id);
      expect(orgs.map((o) => [o.org.name, o.role])).toEqual([['A', 'VIEWER'], ['B', 'ADMIN']]);
      expect(orgs[0]!.org).toEqual(a);
      expect(await store.orgs.listForUser(nextId('usr'))).toEqual([]);
    });
  });

  describe('UserRepository', () => {
    it('stores emails lowercased, finds them case-insensitively and refuses a second spelling of one address', async () => {
      const store = await open();
      const local = randomBytes(5).toString('hex');
      const user = await seedUser(store, { email: `${local.toUpperCase()}@Example.TEST`, name: 'Ada' });
      expect(await store.users.findByEmail(`${local}@example.test`)).toEqual({ ...user, email: `${local}@example.test` });
      expect(await store.users.findByEmail(`${local.toUpperCase()}@EXAMPLE.test`)).not.toBeNull();
      expect(await store.users.findById(user.id)).toEqual({ ...user, email: `${local}@example.test` });
      await expect(seedUser(store, { email: `${local}@example.test` })).rejects.toBeInstanceOf(StoreConflict);
      expect(await store.users.findByEmail('nobody@example.test')).toBeNull();
    });

    it('updates the fields of a patch and leaves the others', async () => {
      const store = await open();
      const user = await seedUser(store, { name: 'Ada' });
      const other = await seedUser(store);
      await store.users.update(user.id, { passwordHash: 'scrypt$new', disabledAt: at(5) });
      expect(await store.users.findById(user.id)).toEqual({ ...user, passwordHash: 'scrypt$new', disabledAt: at(5) });
      await store.users.update(user.id, { name: null, disabledAt: null });
      expect(await store.users.findById(user.id)).toEqual({ ...user, passwordHash: 'scrypt$new', name: null });
      expect(await store.users.findById(other.id)).toEqual(other);
    });
  });

  describe('SessionRepository', () => {
    it('finds a session by its digest and revokes it once (the first instant stands)', async () => {
      const store = await open();
      const user = await seedUser(store);
      const session: Session = { id: nextId('ses'), userId: user.id, tokenDigest: randomBytes(32).toString('hex'), createdAt: at(), expiresAt: at(3600), revokedAt: null };
      await store.sessions.insert(session);
      expect(await store.sessions.findByDigest(session.tokenDigest)).toEqual(session);
      expect(await store.sessions.findByDigest(randomBytes(32).toString('hex'))).toBeNull();
      await store.sessions.revoke(session.id, at(10));
      await store.sessions.revoke(session.id, at(20));
      expect(await store.sessions.findByDigest(session.tokenDigest)).toEqual({ ...session, revokedAt: at(10) });
      await expect(store.sessions.insert({ ...session, id: nextId('ses') })).rejects.toBeInstanceOf(StoreConflict);
    });
  });

  describe('VerifierRepository', () => {
    /** A verifier never rolled nor used, deployment-wide unless told otherwise. */
    const verifier = (fields: Partial<VerifierRecord> = {}): VerifierRecord => ({
      id: nextId('ver') as VerifierRecord['id'],
      name: 'edge',
      orgId: null,
      digest: randomBytes(32).toString('hex'),
      pepperVersion: 1,
      preview: 'kwv_…abcd',
      createdAt: at(),
      revokedAt: null,
      previousDigest: null,
      previousPepperVersion: null,
      previousExpiresAt: null,
      lastUsedAt: null,
      ...fields,
    });

    it('round-trips deployment-wide and organization-bound verifiers', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const global = verifier();
      const bound = verifier({ orgId: org.id, revokedAt: at(9) });
      await store.verifiers.insert(global);
      await store.verifiers.insert(bound);
      expect(await store.verifiers.findForVerification(global.id)).toEqual(global);
      expect(await store.verifiers.findForVerification(bound.id)).toEqual(bound);
      expect(await store.verifiers.findForVerification(nextId('ver'))).toBeNull();
    });

    it('lists, revokes once, rolls with a previous secret, and records the last use', async () => {
      const store = await open();
      const record = verifier({ name: 'gateway', digest: 'a'.repeat(64) });
      const { id } = record;
      await store.verifiers.insert(record);
      expect((await store.verifiers.list()).map((v) => v.id)).toContain(id);
      await store.verifiers.setSecret(id, { digest: 'b'.repeat(64), pepperVersion: 2, preview: 'kwv_…wxyz', previousDigest: 'a'.repeat(64), previousPepperVersion: 1, previousExpiresAt: at(60) });
      await store.verifiers.touchLastUsed(id, at(5));
      expect(await store.verifiers.findForVerification(id)).toEqual({
        ...record,
        digest: 'b'.repeat(64),
        pepperVersion: 2,
        preview: 'kwv_…wxyz',
        previousDigest: 'a'.repeat(64),
        previousPepperVersion: 1,
        previousExpiresAt: at(60),
        lastUsedAt: at(5),
      });
      expect(await store.verifiers.setRevoked(id, at(9))).toBe(true);
      expect(await store.verifiers.setRevoked(id, at(10))).toBe(false);
      expect((await store.verifiers.findForVerification(id))?.revokedAt).toEqual(at(9));
    });
  });
}
