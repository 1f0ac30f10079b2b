import { StoreConflict, type Store } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { expectForgedCursorsRefused, pageThrough } from './page-through.js';
import { at, seedBinding, seedMember, seedOrg, seedProject, seedTeam } from './seed.js';

const byTimeThenId = (x: { createdAt: Date; id: string }, y: { createdAt: Date; id: string }) =>
  x.createdAt.getTime() - y.createdAt.getTime() || (x.id < y.id ? -1 : 1);

/** Teams, projects and role bindings: happy paths, oldest-first pages, and tenant isolation. */
export function structureStoreContract(open: () => Promise<Store>) {
  describe('TeamRepository', () => {
    it('inserts, finds, renames and pages teams oldest first', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const teams = [];
      for (let i = 0; i < 5; i++) teams.push(await seedTeam(store, org.id, { name: `T${i}`, createdAt: at(i < 2 ? 0 : i) }));
      await expect(store.teams.insert(teams[0]!)).rejects.toBeInstanceOf(StoreConflict);
      await store.teams.update(org.id, teams[0]!.id, { name: 'Renamed' });
      expect(await store.teams.findById(org.id, teams[0]!.id)).toEqual({ ...teams[0], name: 'Renamed' });
      const { ids } = await pageThrough((page) => store.teams.list(org.id, page), 2, (t) => t.id);
      expect(ids).toEqual([...teams].sort(byTimeThenId).map((t) => t.id));
      await expectForgedCursorsRefused((page) => store.teams.list(org.id, page));
    });

    it("never returns, lists or renames another organization's team", async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const team = await seedTeam(store, a.id);
      expect(await store.teams.findById(b.id, team.id)).toBeNull();
      expect((await store.teams.list(b.id, { limit: 10 })).items).toEqual([]);
      await store.teams.update(b.id, team.id, { name: 'pwned' });
      expect(await store.teams.findById(a.id, team.id)).toEqual(team);
    });
  });

  describe('ProjectRepository', () => {
    it('hides archived projects unless asked, filters by team, updates and pages oldest first', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const team = await seedTeam(store, org.id);
      const live = await seedProject(store, org.id, { teamId: team.id, name: 'live', createdAt: at(1) });
      const archived = await seedProject(store, org.id, { name: 'old', archivedAt: at(5), createdAt: at(2) });
      const more = [];
      for (let i = 0; i < 4; i++) more.push(await seedProject(store, org.id, { createdAt: at(3) }));
      const names = async (filter: Parameters<Store['projects']['list']>[1]) => (await store.projects.list(org.id, filter, { limit: 10 })).items.map((p) => p.id);
      expect(await names({ includeArchived: false })).toEqual([live, ...[...more].sort(byTimeThenId)].map((p) => p.id));
      expect(await names({ includeArchived: true, teamId: team.id })).toEqual([live.id]);
      const all = await pageThrough((page) => store.projects.list(org.id, { includeArchived: true }, page), 2, (p) => p.id);
      expect(all.ids).toEqual([live, archived, ...more].sort(byTimeThenId).map((p) => p.id));
      await store.projects.update(org.id, archived.id, { archivedAt: null, teamId: team.id, name: 'revived' });
      await store.projects.update(org.id, live.id, {});
      expect(await store.projects.findById(org.id, archived.id)).toEqual({ ...archived, archivedAt: null, teamId: team.id, name: 'revived' });
      expect(await names({ includeArchived: false, teamId: team.id })).toEqual([live.id, archived.id]);
      await expectForgedCursorsRefused((page) => store.projects.list(org.id, { includeArchived: true }, page));
    });

    it("never returns, lists, renames, moves or archives another organization's project", async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const team = await seedTeam(store, a.id);
      const project = await seedProject(store, a.id, { teamId: team.id });
      expect(await store.projects.findById(b.id, project.id)).toBeNull();
      expect((await store.projects.list(b.id, { includeArchived: true }, { limit: 10 })).items).toEqual([]);
      expect((await store.projects.list(b.id, { includeArchived: true, teamId: team.id }, { limit: 10 })).items).toEqual([]);
      await store.projects.update(b.id, project.id, { name: 'pwned', archivedAt: at(9), teamId: null });
      expect(await store.projects.findById(a.id, project.id)).toEqual(project);
    });
  });

  describe('RoleBindingRepository', () => {
    it('inserts, finds, lists per user and pages bindings oldest first, then deletes them', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const user = await seedMember(store, org.id);
      const other = await seedMember(store, org.id);
      const mine = [];
      for (let i = 0; i < 4; i++) mine.push(await seedBinding(store, org.id, user.id, { createdAt: at(i < 2 ? 0 : i), ...(i === 1 ? { role: 'VIEWER' as const, permissions: null, scopeType: 'TEAM' as const } : {}) }));
      const theirs = await seedBinding(store, org.id, other.id, { createdAt: at(1) });
      const expected = [...mine].sort(byTimeThenId);
      expect(await store.bindings.findById(org.id, mine[1]!.id)).toEqual(mine[1]);
      expect(await store.bindings.listForUser(org.id, user.id)).toEqual(expected);
      const { items } = await pageThrough((page) => store.bindings.list(org.id, { userId: user.id }, page), 3, (b) => b.id);
      expect(items).toEqual(expected);
      const everyone = await pageThrough((page) => store.bindings.list(org.id, {}, page), 2, (b) => b.id);
      expect(everyone.items).toEqual([...mine, theirs].sort(byTimeThenId));
      await expectForgedCursorsRefused((page) => store.bindings.list(org.id, {}, page));
      await store.bindings.delete(org.id, mine[0]!.id);
      expect(await store.bindings.findById(org.id, mine[0]!.id)).toBeNull();
      await store.bindings.deleteForUser(org.id, user.id);
      expect(await store.bindings.listForUser(org.id, user.id)).toEqual([]);
      expect(await store.bindings.listForUser(org.id, other.id)).toEqual([theirs]);
    });

    it("never returns, lists or deletes another organization's bindings", async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const user = await seedMember(store, a.id);
      const binding = await seedBinding(store, a.id, user.id);
      expect(await store.bindings.findById(b.id, binding.id)).toBeNull();
      expect(await store.bindings.listForUser(b.id, user.id)).toEqual([]);
      expect((await store.bindings.list(b.id, {}, { limit: 10 })).items).toEqual([]);
      expect((await store.bindings.list(b.id, { userId: user.id }, { limit: 10 })).items).toEqual([]);
      await store.bindings.delete(b.id, binding.id);
      await store.bindings.deleteForUser(b.id, user.id);
      expect(await store.bindings.listForUser(a.id, user.id)).toEqual([binding]);
    });
  });
}
