import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

for (const dialect of await dialects()) {
  describe(`the ceiling model, restricted mode and scopes on ${dialect}`, () => {
    let server: TestServer;
    let org: OrgFixture;
    let projectId: string;

    beforeAll(async () => {
      server = await startServer({ dialect });
      org = await createOrg(server);
      projectId = (await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: 'web' } })).body.project.id;
    });
    afterAll(async () => server?.close());

    const permissionsOf = async (token: string) =>
      (await call(server, 'GET', '/api/auth/whoami', { token, headers: { 'x-project-id': projectId } })).body.permissions as string[];

    it("gives a MEMBER's all-mode key the MEMBER rights: writes traces, never secrets", async () => {
      const member = await org.addMember('MEMBER');
      const { token } = await org.createKey(member);
      const permissions = await permissionsOf(token);
      expect(permissions).toContain('traces:write');
      expect(permissions).toContain('secrets:read');
      expect(permissions).not.toContain('secrets:write');
      expect(permissions).not.toContain('organization:manage');
    });

    it('shrinks a personal key at once when its owner is demoted, and restores it on promotion', async () => {
      const member = await org.addMember('MEMBER');
      const { token } = await org.createKey(member);
      expect(await permissionsOf(token)).toContain('traces:write');
      const demoted = await call(server, 'PATCH', `/api/members/${member.userId}`, { token: org.owner.session, body: { role: 'VIEWER' } });
      expect(demoted.status).toBe(200);
      const after = await permissionsOf(token);
      expect(after).toContain('traces:read');
      expect(after).not.toContain('traces:write');
      await call(server, 'PATCH', `/api/members/${member.userId}`, { token: org.owner.session, body: { role: 'MEMBER' } });
      expect(await permissionsOf(token)).toContain('traces:write');
    });

    it("caps an admin's key by the owner's current role: an ADMIN demoted to VIEWER loses organization:manage", async () => {
      const admin = await org.addMember('ADMIN');
      const { token } = await org.createKey(admin);
      expect((await call(server, 'GET', '/api/api-keys', { token })).status).toBe(200);
      await call(server, 'PATCH', `/api/members/${admin.userId}`, { token: org.owner.session, body: { role: 'VIEWER' } });
      const refused = await call(server, 'GET', '/api/api-keys', { token });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe('insufficient_permissions');
    });

    it('disables personal keys when their owner is removed; service keys survive', async () => {
      const admin = await org.addMember('ADMIN');
      const personal = await org.createKey(admin);
      const service = await org.createKey(admin, { keyType: 'service', projectIds: [projectId] });
      expect((await call(server, 'DELETE', `/api/members/${admin.userId}`, { token: org.owner.session })).status).toBe(200);
      expect((await call(server, 'GET', '/api/auth/whoami', { token: personal.token })).status).toBe(401);
      const listed = await call(server, 'GET', `/api/api-keys/${personal.apiKey.id}`, { token: org.owner.session });
      expect(listed.body.status).toBe('disabled');
      const disabled = await call(server, 'GET', '/api/api-keys?status=disabled', { token: org.owner.session });
      expect(disabled.body.data.map((k: any) => k.id)).toContain(personal.apiKey.id);
      const svc = await call(server, 'GET', '/api/auth/whoami', { token: service.token });
      expect(svc.status).toBe(200);
      expect(svc.body.projectId).toBe(projectId);
    });

    it('limits a restricted key to its listed permissions, within the owner', async () => {
      const member = await org.addMember('MEMBER');
      const { token, apiKey } = await org.createKey(member, { permissionMode: 'restricted', permissions: ['traces:read', 'datasets:write'] });
      expect(apiKey.permissions).toEqual(['traces:read', 'datasets:write']);
      const permissions = await permissionsOf(token);
      expect(permissions.sort()).toEqual(['datasets:read', 'datasets:write', 'traces:read']);
    });

    it('refuses a restricted key without permissions, and unknown permissions, with 422', async () => {
      const none = await call(server, 'POST', '/api/api-keys', { token: org.owner.session, body: { name: 'r', permissionMode: 'restricted' } });
      expect(none.status).toBe(422);
      const unknown = await call(server, 'POST', '/api/api-keys', {
        token: org.owner.session,
        body: { name: 'r', permissionMode: 'restricted', permissions: ['rockets:launch'] },
      });
      expect(unknown.status).toBe(422);
      expect(unknown.body.reasons[0].path).toBe('permissions[0]');
    });

    it('applies scopes with resource filters on top of the bindings', async () => {
      const other = (await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: 'other' } })).body.project.id;
      const { token } = await org.createKey(org.owner, { scopes: [{ action: 'read', resource: `projects/${projectId}` }] });
      const here = await permissionsOf(token);
      expect(here).toContain('traces:read');
      expect(here).not.toContain('traces:write');
      const there = (await call(server, 'GET', '/api/auth/whoami', { token, headers: { 'x-project-id': other } })).body.permissions;
      expect(there).toEqual([]);
    });

    it('refuses malformed scope filters and CIDRs with 422, naming the field', async () => {
      const scope = await call(server, 'POST', '/api/api-keys', { token: org.owner.session, body: { name: 's', scopes: [{ action: 'read', resource: 'projects/../x' }] } });
      expect(scope.status).toBe(422);
      expect(scope.body.reasons[0].path).toBe('scopes[0].resource');
      for (const cidr of ['010.0.0.0/8', '0x0a.0.0.0/8', '1.2.3/24', '10.0.0.1/8', '::/129']) {
        const res = await call(server, 'POST', '/api/api-keys', { token: org.owner.session, body: { name: 'c', allowedCidrs: [cidr] } });
        expect(res.status, cidr).toBe(422);
        expect(res.body.reasons[0].path).toBe('allowedCidrs[0]');
      }
    });

    it('stores CIDRs canonically and warns on wildcards', async () => {
      const res = await call(server, 'POST', '/api/api-keys', {
        token: org.owner.session,
        body: { name: 'ip', allowedCidrs: ['2001:DB8::/32', '::/0', '127.0.0.1/32'] },
      });
      expect(res.status).toBe(201);
      expect(res.body.apiKey.allowedCidrs).toEqual(['2001:db8::/32', '::/0', '127.0.0.1/32']);
      expect(res.body.warnings.map((w: any) => w.code)).toContain('allowed_cidrs_wildcard');
      expect((await call(server, 'GET', '/api/auth/whoami', { token: res.body.token })).status).toBe(200);
      const v6only = await call(server, 'POST', '/api/api-keys', { token: org.owner.session, body: { name: 'ip6', allowedCidrs: ['::/0'] } });
      const refused = await call(server, 'GET', '/api/auth/whoami', { token: v6only.body.token });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe('ip_not_allowed');
    });

    it('refuses project-scoped bindings of another organization as not found', async () => {
      const other = await createOrg(server);
      const theirs = (await call(server, 'POST', '/api/projects', { token: other.owner.session, body: { name: 'x' } })).body.project.id;
      const res = await call(server, 'POST', '/api/api-keys', {
        token: org.owner.session,
        body: { name: 'x', bindings: [{ role: 'VIEWER', scopeType: 'PROJECT', scopeId: theirs }] },
      });
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('project_not_found');
    });
  });
}
