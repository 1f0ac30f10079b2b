import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrganization } from '@keyward/core';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

for (const dialect of await dialects()) {
  describe(`members, teams, projects, role bindings, audit log on ${dialect}`, () => {
    let server: TestServer;
    let org: OrgFixture;
    let other: OrgFixture;

    beforeAll(async () => {
      server = await startServer({ dialect });
      org = await createOrg(server);
      other = await createOrg(server);
    });
    afterAll(async () => server?.close());

    it('invites a member who accepts, logs in and appears in the list', async () => {
      const invited = await call(server, 'POST', '/api/members', { token: org.owner.session, body: { email: 'New.Person@Example.test', role: 'MEMBER' } });
      expect(invited.status).toBe(201);
      expect(invited.body.member).toMatchObject({ email: 'new.person@example.test', role: 'MEMBER', status: 'invited' });
      expect(invited.body.invitation.token).toMatch(/^kwi_/);
      expect(invited.body.invitation.url).toContain(invited.body.invitation.token);
      const accepted = await call(server, 'POST', '/api/invitations/accept', { body: { token: invited.body.invitation.token, password: 'correct horse battery' } });
      expect(accepted.status).toBe(200);
      expect(accepted.body).toEqual({ user: { id: invited.body.member.userId, email: 'new.person@example.test' }, organizationId: org.orgId });
      const again = await call(server, 'POST', '/api/invitations/accept', { body: { token: invited.body.invitation.token, password: 'correct horse battery' } });
      expect(again.status).toBe(404);
      const login = await call(server, 'POST', '/api/auth/login', { body: { email: 'new.person@example.test', password: 'correct horse battery' } });
      expect(login.status).toBe(200);
      expect(login.body.organizations).toEqual([{ id: org.orgId, name: expect.any(String), role: 'MEMBER', bootstrapped: true }]);
      const members = await call(server, 'GET', '/api/members', { token: org.owner.session });
      expect(members.body.data.find((m: any) => m.userId === invited.body.member.userId)).toMatchObject({ status: 'active' });
      const dup = await call(server, 'POST', '/api/members', { token: org.owner.session, body: { email: 'new.person@example.test', role: 'VIEWER' } });
      expect(dup.status).toBe(409);
    });

    it('lets a person in several organizations pick one with X-Organization-Id; a foreign one is 404', async () => {
      const person = await org.addMember('VIEWER');
      const invited = await call(server, 'POST', '/api/members', { token: other.owner.session, body: { email: person.email, role: 'ADMIN' } });
      await call(server, 'POST', '/api/invitations/accept', { body: { token: invited.body.invitation.token, password: person.password } });
      const inOther = await call(server, 'GET', '/api/auth/whoami', { token: person.session, headers: { 'x-organization-id': other.orgId } });
      expect(inOther.body).toMatchObject({ organizationId: other.orgId, role: 'ADMIN' });
      expect(inOther.body.organizations).toHaveLength(2);
      const inFirst = await call(server, 'GET', '/api/auth/whoami', { token: person.session, headers: { 'x-organization-id': org.orgId } });
      expect(inFirst.body).toMatchObject({ organizationId: org.orgId, role: 'VIEWER' });
      const third = await createOrg(server);
      const foreign = await call(server, 'GET', '/api/auth/whoami', { token: person.session, headers: { 'x-organization-id': third.orgId } });
      expect(foreign.status).toBe(404);
      expect(foreign.body.error).toBe('organization_not_found');
    });

    it('keeps at least one owner, and lets only owners make owners', async () => {
      const admin = await org.addMember('ADMIN');
      const promote = await call(server, 'PATCH', `/api/members/${admin.userId}`, { token: admin.session, body: { role: 'OWNER' } });
      expect(promote.status).toBe(403);
      const demoteOwner = await call(server, 'PATCH', `/api/members/${org.owner.userId}`, { token: org.owner.session, body: { role: 'ADMIN' } });
      expect(demoteOwner.status).toBe(409);
      expect(demoteOwner.body.error).toBe('last_owner');
    });

    it('refuses management to MEMBERs and VIEWERs with 403', async () => {
      const viewer = await org.addMember('VIEWER');
      for (const [method, path, body] of [
        ['POST', '/api/members', { email: 'x@example.test', role: 'VIEWER' }],
        ['POST', '/api/teams', { name: 't' }],
        ['POST', '/api/projects', { name: 'p' }],
        ['GET', '/api/audit-log', undefined],
        ['POST', '/api/organization/bootstrap', undefined],
      ] as const) {
        const res = await call(server, method, path, { token: viewer.session, body });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.body.error).toBe('insufficient_permissions');
      }
      const denials = await call(server, 'GET', `/api/audit-log?actorId=${viewer.userId}&action=authorization.denied`, { token: org.owner.session });
      expect(denials.body.data).toHaveLength(5);
      expect(denials.body.data[0]).toMatchObject({ outcome: 'denied', actor: { type: 'user', id: viewer.userId }, details: { method: 'POST', route: '/api/organization/bootstrap' } });
    });

    it('creates teams and projects, renames, moves, archives and restores', async () => {
      const team = await call(server, 'POST', '/api/teams', { token: org.owner.session, body: { name: 'Platform' } });
      expect(team.status).toBe(201);
      const project = await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: 'api', teamId: team.body.team.id } });
      expect(project.status).toBe(201);
      expect(project.body.project).toMatchObject({ name: 'api', teamId: team.body.team.id, archivedAt: null });
      const id = project.body.project.id;
      const renamed = await call(server, 'PATCH', `/api/projects/${id}`, { token: org.owner.session, body: { name: 'api-v2' } });
      expect(renamed.body.project.name).toBe('api-v2');
      const archived = await call(server, 'PATCH', `/api/projects/${id}`, { token: org.owner.session, body: { archived: true } });
      expect(archived.body.project.archivedAt).toEqual(expect.any(String));
      const listed = await call(server, 'GET', '/api/projects', { token: org.owner.session });
      expect(listed.body.data.map((p: any) => p.id)).not.toContain(id);
      const all = await call(server, 'GET', '/api/projects?includeArchived=true', { token: org.owner.session });
      expect(all.body.data.map((p: any) => p.id)).toContain(id);
      const bound = await call(server, 'POST', '/api/api-keys', { token: org.owner.session, body: { name: 'k', keyType: 'service', projectIds: [id] } });
      expect(bound.status).toBe(409);
      expect(bound.body.error).toBe('project_archived');
      const restored = await call(server, 'PATCH', `/api/projects/${id}`, { token: org.owner.session, body: { archived: false } });
      expect(restored.body.project.archivedAt).toBeNull();
      const teamRename = await call(server, 'PATCH', `/api/teams/${team.body.team.id}`, { token: org.owner.session, body: { name: 'Core' } });
      expect(teamRename.body.team.name).toBe('Core');
    });

    it('gives a member more rights on a team through a role binding, covering its projects', async () => {
      const member = await org.addMember('VIEWER');
      const team = (await call(server, 'POST', '/api/teams', { token: org.owner.session, body: { name: 'Data' } })).body.team;
      const inTeam = (await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: 'etl', teamId: team.id } })).body.project;
      const outside = (await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: 'misc' } })).body.project;
      const binding = await call(server, 'POST', '/api/role-bindings', {
        token: org.owner.session,
        body: { userId: member.userId, role: 'MEMBER', scopeType: 'TEAM', scopeId: team.id },
      });
      expect(binding.status).toBe(201);
      const perms = async (projectId: string) =>
        (await call(server, 'GET', '/api/auth/whoami', { token: member.session, headers: { 'x-project-id': projectId } })).body.permissions;
      expect(await perms(inTeam.id)).toContain('datasets:write');
      expect(await perms(outside.id)).not.toContain('datasets:write');
      const key = await call(server, 'POST', '/api/api-keys', {
        token: member.session,
        body: { name: 'team key', bindings: [{ role: 'MEMBER', scopeType: 'TEAM', scopeId: team.id }] },
      });
      expect(key.status).toBe(201);
      const tooMuch = await call(server, 'POST', '/api/api-keys', {
        token: member.session,
        body: { name: 'too much', bindings: [{ role: 'MEMBER', scopeType: 'PROJECT', scopeId: outside.id }] },
      });
      expect(tooMuch.status).toBe(403);
      const listed = await call(server, 'GET', `/api/role-bindings?userId=${member.userId}`, { token: org.owner.session });
      expect(listed.body.data).toHaveLength(1);
      const removed = await call(server, 'DELETE', `/api/role-bindings/${binding.body.roleBinding.id}`, { token: org.owner.session });
      expect(removed.status).toBe(200);
      expect(await perms(inTeam.id)).not.toContain('datasets:write');
    });

    it('writes an audit entry for every change, newest first, filterable, with no secret', async () => {
      const created = await org.createKey(org.owner, { name: 'audited' });
      await call(server, 'PATCH', `/api/api-keys/${created.apiKey.id}`, { token: org.owner.session, body: { name: 'audited 2' } });
      await call(server, 'POST', `/api/api-keys/${created.apiKey.id}/roll`, { token: org.owner.session });
      await call(server, 'DELETE', `/api/api-keys/${created.apiKey.id}`, { token: org.owner.session });
      const log = await call(server, 'GET', `/api/audit-log?targetId=${created.apiKey.id}`, { token: org.owner.session });
      expect(log.status).toBe(200);
      expect(log.body.data.map((e: any) => e.action)).toEqual(['api_key.revoked', 'api_key.rolled', 'api_key.updated', 'api_key.created']);
      expect(log.body.data[0]).toMatchObject({ actor: { type: 'user', id: org.owner.userId }, targetType: 'api_key', outcome: 'success', ip: expect.any(String) });
      expect(JSON.stringify(log.body)).not.toContain(created.token.slice(21, 40));
      const byAction = await call(server, 'GET', '/api/audit-log?action=api_key.created&limit=1', { token: org.owner.session });
      expect(byAction.body.data).toHaveLength(1);
      expect(byAction.body.nextCursor).toEqual(expect.any(String));
      const foreign = await call(server, 'GET', `/api/audit-log?targetId=${created.apiKey.id}`, { token: other.owner.session });
      expect(foreign.body.data).toEqual([]);
    });

    it("answers 404 for another organization's members, teams, projects and bindings, changing nothing", async () => {
      const theirTeam = (await call(server, 'POST', '/api/teams', { token: other.owner.session, body: { name: 'theirs' } })).body.team;
      const theirProject = (await call(server, 'POST', '/api/projects', { token: other.owner.session, body: { name: 'theirs' } })).body.project;
      const theirMember = await other.addMember('MEMBER');
      const theirBinding = (
        await call(server, 'POST', '/api/role-bindings', { token: other.owner.session, body: { userId: theirMember.userId, role: 'ADMIN', scopeType: 'PROJECT', scopeId: theirProject.id } })
      ).body.roleBinding;
      for (const [method, path, body, code] of [
        ['GET', `/api/teams/${theirTeam.id}`, undefined, 'team_not_found'],
        ['PATCH', `/api/teams/${theirTeam.id}`, { name: 'x' }, 'team_not_found'],
        ['GET', `/api/projects/${theirProject.id}`, undefined, 'project_not_found'],
        ['PATCH', `/api/projects/${theirProject.id}`, { archived: true }, 'project_not_found'],
        ['GET', `/api/members/${theirMember.userId}`, undefined, 'member_not_found'],
        ['PATCH', `/api/members/${theirMember.userId}`, { role: 'VIEWER' }, 'member_not_found'],
        ['DELETE', `/api/members/${theirMember.userId}`, undefined, 'member_not_found'],
        ['DELETE', `/api/role-bindings/${theirBinding.id}`, undefined, 'role_binding_not_found'],
        ['POST', '/api/role-bindings', { userId: theirMember.userId, role: 'ADMIN', scopeType: 'TEAM', scopeId: theirTeam.id }, 'member_not_found'],
        ['POST', '/api/projects', { name: 'x', teamId: theirTeam.id }, 'team_not_found'],
      ] as const) {
        const res = await call(server, method, path, { token: org.owner.session, body });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body.error).toBe(code);
      }
      expect((await call(server, 'GET', `/api/projects/${theirProject.id}`, { token: other.owner.session })).body.project.archivedAt).toBeNull();
      expect((await call(server, 'GET', `/api/members/${theirMember.userId}`, { token: other.owner.session })).body.member.role).toBe('MEMBER');
    });

    it('bootstraps once: idempotent, and N concurrent calls leave one key set', async () => {
      const { deps } = server.composed.services;
      const created = await createOrganization(deps, { name: 'Late', ownerEmail: `late-${Date.now()}@example.test`, ownerPassword: 'password-123', bootstrap: false, createAdminKey: false });
      const login = await call(server, 'POST', '/api/auth/login', { body: { email: (await deps.store.users.findById(created.ownerUserId))!.email, password: 'password-123' } });
      const session = login.body.sessionToken;
      const before = await call(server, 'POST', '/api/api-keys', { token: session, body: { name: 'too early' } });
      expect(before.status).toBe(409);
      expect(before.body.error).toBe('organization_not_bootstrapped');
      const answers = await Promise.all(Array.from({ length: 8 }, () => call(server, 'POST', '/api/organization/bootstrap', { token: session })));
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
      expect(new Set(answers.map((a) => a.body.bootstrappedAt)).size).toBe(1);
      const keys = await deps.store.signingKeys.listForOrg(created.organization.id);
      expect(keys).toHaveLength(2);
      expect(keys.map((k) => k.state).sort()).toEqual(['current', 'next']);
      expect(JSON.stringify(keys.map((k) => k.publicJwk))).not.toMatch(/"d"/);
      expect((await call(server, 'POST', '/api/api-keys', { token: session, body: { name: 'now' } })).status).toBe(201);
    });
  });
}
