import type { OrgId, ProjectId, RoleBindingId, Store, TeamId } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { nextId, seedKey, seedMember, seedOrg, seedUser } from './seed.js';

/** Organizations, people, teams, projects and bindings: happy paths, pages, and tenant isolation. */
export function tenantStoreContract(open: () => Promise<Store>) {
  describe('organizations, members and invitations', () => {
    it('marks an organization bootstrapped exactly once under concurrency', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const results = await Promise.all(Array.from({ length: 8 }, () => store.orgs.markBootstrapped(org.id, new Date())));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.orgs.findById(org.id))!.bootstrappedAt).not.toBeNull();
    });

    it('lists a user\'s organizations with roles, active memberships only, oldest first', async () => {
      const store = await open();
      const a = await seedOrg(store, { name: 'A' });
      const b = await seedOrg(store, { name: 'B' });
      const c = await seedOrg(store, { name: 'C' });
      const user = await seedUser(store);
      await store.members.insert({ orgId: b.id, userId: user.id, role: 'ADMIN', status: 'active', createdAt: new Date('2030-01-02') });
      await store.members.insert({ orgId: a.id, userId: user.id, role: 'VIEWER', status: 'active', createdAt: new Date('2030-01-01') });
      await store.members.insert({ orgId: c.id, userId: user.id, role: 'OWNER', status: 'invited', createdAt: new Date('2030-01-03') });
      const orgs = await store.orgs.listForUser(user.id);
      expect(orgs.map((o) => [o.org.name, o.role])).toEqual([['A', 'VIEWER'], ['B', 'ADMIN']]);
    });

    it('finds users by email case-insensitively and refuses duplicates', async () => {
      const store = await open();
      const user = await seedUser(store, { email: 'Ada@Example.test' });
      expect((await store.users.findByEmail('ADA@example.TEST'))!.id).toBe(user.id);
      await expect(seedUser(store, { email: 'ada@example.test' })).rejects.toThrow();
    });

    it('keeps memberships per organization: another org never sees, changes or removes them', async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const user = await seedMember(store, a.id, 'MEMBER');
      expect(await store.members.find(b.id, user.id)).toBeNull();
      expect(await store.members.findForUpdate(b.id, user.id)).toBeNull();
      expect(await store.members.findView(b.id, user.id)).toBeNull();
      await store.members.update(b.id, user.id, { role: 'OWNER' });
      await store.members.delete(b.id, user.id);
      expect((await store.members.find(a.id, user.id))!.role).toBe('MEMBER');
      expect((await store.members.list(b.id, { limit: 10 })).items).toEqual([]);
      expect(await store.members.countActiveOwners(b.id)).toBe(0);
    });

    it('pages members oldest first', async () => {
      const store = await open();
      const org = await seedOrg(store);
      for (let i = 0; i < 5; i++) await seedMember(store, org.id, 'VIEWER', new Date(Date.UTC(2030, 0, 1 + i)));
      const first = await store.members.list(org.id, { limit: 2 });
      const second = await store.members.list(org.id, { limit: 2, cursor: first.nextCursor });
      const third = await store.members.list(org.id, { limit: 2, cursor: second.nextCursor });
      const all = [...first.items, ...second.items, ...third.items];
      expect(all).toHaveLength(5);
      expect(third.nextCursor).toBeNull();
      expect(all.map((m) => m.createdAt.getTime())).toEqual([...all.map((m) => m.createdAt.getTime())].sort((x, y) => x - y));
    });

    it('accepts an invitation exactly once', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const user = await seedUser(store);
      const invitation = {
        id: nextId('inv') as `inv_${string}`,
        orgId: org.id,
        userId: user.id,
        email: user.email,
        role: 'MEMBER' as const,
        tokenDigest: nextId('digest'),
        expiresAt: new Date('2031-01-01'),
        acceptedAt: null,
        createdByUserId: null,
        createdAt: new Date(),
      };
      await store.invitations.insert(invitation);
      expect(await store.invitations.findByDigest(invitation.tokenDigest)).toEqual(invitation);
      const results = await Promise.all([1, 2, 3].map(() => store.invitations.markAccepted(invitation.id, new Date())));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('teams, projects and role bindings', () => {
    it('never returns, renames, moves or archives another organization\'s teams and projects', async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const team = { id: nextId('team') as TeamId, orgId: a.id, name: 'T', createdAt: new Date() };
      await store.teams.insert(team);
      const project = { id: nextId('proj') as ProjectId, orgId: a.id, teamId: team.id, name: 'P', archivedAt: null, createdAt: new Date() };
      await store.projects.insert(project);
      expect(await store.teams.findById(b.id, team.id)).toBeNull();
      expect(await store.projects.findById(b.id, project.id)).toBeNull();
      await store.teams.update(b.id, team.id, { name: 'pwned' });
      await store.projects.update(b.id, project.id, { name: 'pwned', archivedAt: new Date(), teamId: null });
      expect(await store.teams.findById(a.id, team.id)).toEqual(team);
      expect(await store.projects.findById(a.id, project.id)).toEqual(project);
      expect((await store.projects.list(b.id, { includeArchived: true }, { limit: 10 })).items).toEqual([]);
    });

    it('hides archived projects unless asked, and filters by team', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const team = { id: nextId('team') as TeamId, orgId: org.id, name: 'T', createdAt: new Date() };
      await store.teams.insert(team);
      const live = { id: nextId('proj') as ProjectId, orgId: org.id, teamId: team.id, name: 'live', archivedAt: null, createdAt: new Date('2030-01-01') };
      const archived = { id: nextId('proj') as ProjectId, orgId: org.id, teamId: null, name: 'old', archivedAt: new Date(), createdAt: new Date('2030-01-02') };
      await store.projects.insert(live);
      await store.projects.insert(archived);
      expect((await store.projects.list(org.id, { includeArchived: false }, { limit: 10 })).items.map((p) => p.name)).toEqual(['live']);
      expect((await store.projects.list(org.id, { includeArchived: true }, { limit: 10 })).items.map((p) => p.name)).toEqual(['live', 'old']);
      expect((await store.projects.list(org.id, { includeArchived: true, teamId: team.id }, { limit: 10 })).items.map((p) => p.name)).toEqual(['live']);
    });

    it('keeps role bindings per organization', async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const user = await seedMember(store, a.id);
      const binding = {
        id: nextId('rb') as RoleBindingId,
        orgId: a.id,
        userId: user.id,
        role: 'CUSTOM' as const,
        permissions: ['traces:read' as const],
        scopeType: 'PROJECT' as const,
        scopeId: 'proj_x',
        createdAt: new Date('2030-01-01'),
      };
      await store.bindings.insert(binding);
      expect(await store.bindings.findById(a.id, binding.id)).toEqual(binding);
      expect(await store.bindings.findById(b.id, binding.id)).toBeNull();
      expect(await store.bindings.listForUser(b.id, user.id)).toEqual([]);
      await store.bindings.delete(b.id, binding.id);
      await store.bindings.deleteForUser(b.id, user.id);
      expect(await store.bindings.listForUser(a.id, user.id)).toEqual([binding]);
      expect((await store.bindings.list(a.id, { userId: user.id }, { limit: 10 })).items).toEqual([binding]);
    });
  });

  describe('transactions', () => {
    it('leaves nothing behind when the function throws: neither the change nor its audit entry', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const auditId = nextId('aud') as `aud_${string}`;
      let keyId = '';
      await expect(
        store.transaction(async (tx) => {
          const key = await seedKey(tx as Store, org.id);
          keyId = key.id;
          await tx.audit.append({ id: auditId, orgId: org.id, at: new Date(), actor: { type: 'system', id: 'test' }, action: 'api_key.created', targetType: 'api_key', targetId: key.id, ip: null, outcome: 'success', requestId: null, details: {} });
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.keys.findById(org.id, keyId as never)).toBeNull();
      expect((await store.audit.list(org.id, {}, { limit: 10 })).items).toEqual([]);
    });

    it('commits the change and its audit entry together', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const key = await store.transaction(async (tx) => {
        const created = await seedKey(tx as Store, org.id);
        await tx.audit.append({ id: nextId('aud') as `aud_${string}`, orgId: org.id, at: new Date(), actor: { type: 'system', id: 'test' }, action: 'api_key.created', targetType: 'api_key', targetId: created.id, ip: '127.0.0.1', outcome: 'success', requestId: 'req_1', details: { a: 1 } });
        return created;
      });
      expect(await store.keys.findById(org.id, key.id)).not.toBeNull();
      const [entry] = (await store.audit.list(org.id, { targetId: key.id }, { limit: 10 })).items;
      expect(entry).toMatchObject({ action: 'api_key.created', ip: '127.0.0.1', requestId: 'req_1', details: { a: 1 } });
    });
  });
}

export const otherOrg = () => nextId('org') as OrgId;
