import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenFor } from '../oauth/support.js';
import { dialects } from '../support/dialects.js';
import { call, createOrg, startServer, type OrgFixture, type Person, type TestServer } from '../support/server.js';

/**
 * CONTRACT.md "Rights over keys (clarified)": a key never holds more than whoever made, edited or rolled
 * it held at that moment, and having created a key gives no right over it. Each case below is one of
 * issue 10's reproductions, tried through the public API.
 */
for (const dialect of await dialects()) {
  describe(`rights over keys on ${dialect}`, () => {
    let server: TestServer;
    let org: OrgFixture;
    let projectId: string;

    beforeAll(async () => {
      server = await startServer({ dialect });
      org = await createOrg(server);
      projectId = (await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: 'web' } })).body.project.id;
    });
    afterAll(async () => server?.close());

    const setRole = async (person: Person, role: string) => {
      const changed = await call(server, 'PATCH', `/api/members/${person.userId}`, { token: org.owner.session, body: { role } });
      expect(changed.status).toBe(200);
    };

    describe('no rights from authorship (R13)', () => {
      it('takes a demoted ADMIN every right over the service key they made: no roll, no edit, no revoke', async () => {
        const admin = await org.addMember('ADMIN');
        const service = await org.createKey(admin, { keyType: 'service', name: 'made by an admin' });
        const id = service.apiKey.id;
        await setRole(admin, 'VIEWER');
        const roll = await call(server, 'POST', `/api/api-keys/${id}/roll`, { token: admin.session, body: {} });
        expect(roll.status).toBe(403);
        expect(roll.body.error).toBe('api_key_not_owned');
        expect(roll.body.token).toBeUndefined();
        const edit = await call(server, 'PATCH', `/api/api-keys/${id}`, { token: admin.session, body: { name: 'mine again' } });
        expect(edit.status).toBe(403);
        const revoke = await call(server, 'DELETE', `/api/api-keys/${id}`, { token: admin.session });
        expect(revoke.status).toBe(403);
        // The key itself is untouched: the owner still sees it active under its name.
        const seen = await call(server, 'GET', `/api/api-keys/${id}`, { token: org.owner.session });
        expect(seen.body).toMatchObject({ name: 'made by an admin', status: 'active' });
      });

      it("hides a personal key an admin made for a colleague once the admin is demoted, even after removal and re-invitation", async () => {
        const admin = await org.addMember('ADMIN');
        const colleague = await org.addMember('MEMBER');
        const theirs = await org.createKey(admin, { assignedToUserId: colleague.userId, name: 'for a colleague' });
        const id = theirs.apiKey.id;
        expect((await call(server, 'GET', `/api/api-keys/${id}`, { token: admin.session })).status).toBe(200);
        await setRole(admin, 'MEMBER');
        for (const [method, path, body] of [
          ['GET', `/api/api-keys/${id}`, undefined],
          ['POST', `/api/api-keys/${id}/roll`, {}],
          ['PATCH', `/api/api-keys/${id}`, { name: 'taken' }],
          ['DELETE', `/api/api-keys/${id}`, undefined],
        ] as const) {
          const answer = await call(server, method, path, { token: admin.session, body });
          expect(answer.status, `${method} ${path}`).toBe(404);
          expect(answer.body.error).toBe('api_key_not_found');
        }
        const listed = await call(server, 'GET', '/api/api-keys?status=all', { token: admin.session });
        expect(listed.body.data.map((k: { id: string }) => k.id)).not.toContain(id);

        // Removed, then invited back as a MEMBER: still nothing.
        expect((await call(server, 'DELETE', `/api/members/${admin.userId}`, { token: org.owner.session })).status).toBe(200);
        const again = await call(server, 'POST', '/api/members', { token: org.owner.session, body: { email: admin.email, role: 'MEMBER' } });
        expect(again.status).toBe(201);
        const accepted = await call(server, 'POST', '/api/invitations/accept', { body: { token: again.body.invitation.token, password: admin.password } });
        expect(accepted.status).toBe(200);
        const login = await call(server, 'POST', '/api/auth/login', { body: { email: admin.email, password: admin.password } });
        const session = login.body.sessionToken as string;
        const roll = await call(server, 'POST', `/api/api-keys/${id}/roll`, { token: session, headers: { 'x-organization-id': org.orgId }, body: {} });
        expect(roll.status).toBe(404);
        // The colleague, its owner, still manages it.
        expect((await call(server, 'POST', `/api/api-keys/${id}/roll`, { token: colleague.session, body: {} })).status).toBe(201);
      });

      it("caps a demoted admin's own personal key at once: it can no longer reach the management API", async () => {
        const admin = await org.addMember('ADMIN');
        const personal = await org.createKey(admin);
        await setRole(admin, 'VIEWER');
        const promote = await call(server, 'PATCH', `/api/members/${admin.userId}`, { token: personal.token, body: { role: 'ADMIN' } });
        expect(promote.status).toBe(403);
        const mint = await call(server, 'POST', '/api/api-keys', { token: personal.token, body: { name: 'x', keyType: 'service' } });
        expect(mint.status).toBe(403);
      });
    });

    describe('one rule for granting (R14)', () => {
      let manageOnly: string;

      beforeAll(async () => {
        const created = await call(server, 'POST', '/api/api-keys', {
          token: org.owner.session,
          body: { name: 'manage only', keyType: 'service', permissionMode: 'restricted', permissions: ['organization:manage'] },
        });
        expect(created.status).toBe(201);
        manageOnly = created.body.token;
      });

      it('refuses an org-wide service key to a key restricted to organization:manage (403 api_key_scope_violation, never clamped)', async () => {
        const answer = await call(server, 'POST', '/api/api-keys', { token: manageOnly, body: { name: 'escalation', keyType: 'service' } });
        expect(answer.status).toBe(403);
        expect(answer.body.error).toBe('api_key_scope_violation');
        expect(answer.body.message).toMatch(/traces:write on the organization/);
        const listed = await call(server, 'GET', '/api/api-keys?q=escalation', { token: org.owner.session });
        expect(listed.body.data).toEqual([]);
      });

      it('still lets it make keys within what it holds', async () => {
        const answer = await call(server, 'POST', '/api/api-keys', {
          token: manageOnly,
          body: { name: 'same rights', keyType: 'service', permissionMode: 'restricted', permissions: ['organization:manage'] },
        });
        expect(answer.status).toBe(201);
      });

      it('refuses a personal key for a colleague beyond the caller, even within the colleague', async () => {
        const member = await org.addMember('MEMBER');
        const answer = await call(server, 'POST', '/api/api-keys', { token: manageOnly, body: { name: 'for you', assignedToUserId: member.userId } });
        expect(answer.status).toBe(403);
        expect(answer.body.error).toBe('api_key_scope_violation');
      });

      it('refuses edits that widen a key beyond the editor, and rolls that would hand out a stronger key', async () => {
        const narrow = await call(server, 'POST', '/api/api-keys', {
          token: manageOnly,
          body: { name: 'narrow', keyType: 'service', permissionMode: 'restricted', permissions: ['organization:manage'] },
        });
        const widen = await call(server, 'PATCH', `/api/api-keys/${narrow.body.apiKey.id}`, { token: manageOnly, body: { permissionMode: 'all' } });
        expect(widen.status).toBe(403);
        expect(widen.body.error).toBe('api_key_scope_violation');
        const stillNarrow = await call(server, 'GET', `/api/api-keys/${narrow.body.apiKey.id}`, { token: org.owner.session });
        expect(stillNarrow.body.permissionMode).toBe('restricted');
        // Renaming gives nothing: allowed.
        expect((await call(server, 'PATCH', `/api/api-keys/${narrow.body.apiKey.id}`, { token: manageOnly, body: { name: 'renamed' } })).status).toBe(200);

        const strong = await org.createKey(org.owner, { keyType: 'service', name: 'strong' });
        const roll = await call(server, 'POST', `/api/api-keys/${strong.apiKey.id}/roll`, { token: manageOnly, body: {} });
        expect(roll.status).toBe(403);
        expect(roll.body.error).toBe('api_key_scope_violation');
        expect(roll.body.token).toBeUndefined();
        const narrowEdit = await call(server, 'PATCH', `/api/api-keys/${strong.apiKey.id}`, { token: manageOnly, body: { expiresAt: null } });
        expect(narrowEdit.status).toBe(403);
      });

      it('refuses a scoped key the same way', async () => {
        const admin = await org.addMember('ADMIN');
        const scoped = await org.createKey(admin, { scopes: [{ action: 'admin', resource: 'organization' }] });
        const answer = await call(server, 'POST', '/api/api-keys', { token: scoped.token, body: { name: 'unscoped', keyType: 'service' } });
        expect(answer.status).toBe(403);
        expect(answer.body.error).toBe('api_key_scope_violation');
        expect(answer.body.message).toMatch(/every resource path/);
        const within = await call(server, 'POST', '/api/api-keys', {
          token: scoped.token,
          body: { name: 'scoped too', keyType: 'service', scopes: [{ action: 'read', resource: 'organization' }] },
        });
        expect(within.status).toBe(201);
      });

      it('refuses an access token narrowed to organization:manage', async () => {
        const admin = await org.createKey(org.owner, { keyType: 'service', name: 'token client' });
        const accessToken = await tokenFor(server, admin.token, { scope: 'organization:manage' });
        const answer = await call(server, 'POST', '/api/api-keys', { token: accessToken, body: { name: 'from a token', keyType: 'service' } });
        expect(answer.status).toBe(403);
        expect(answer.body.error).toBe('api_key_scope_violation');
        const full = await tokenFor(server, admin.token);
        expect((await call(server, 'POST', '/api/api-keys', { token: full, body: { name: 'from a full token', keyType: 'service' } })).status).toBe(201);
      });

      it('refuses it a role binding that carries more than it holds', async () => {
        const member = await org.addMember('MEMBER');
        const answer = await call(server, 'POST', '/api/role-bindings', {
          token: manageOnly,
          body: { userId: member.userId, role: 'ADMIN', scopeType: 'PROJECT', scopeId: projectId },
        });
        expect(answer.status).toBe(403);
        expect(answer.body.error).toBe('insufficient_permissions');
        const bindings = await call(server, 'GET', `/api/role-bindings?userId=${member.userId}`, { token: org.owner.session });
        expect(bindings.body.data).toEqual([]);
      });

      it('refuses a project admin a key on another project', async () => {
        const member = await org.addMember('MEMBER');
        const other = (await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: `other-${Date.now()}` } })).body.project.id;
        const bound = await call(server, 'POST', '/api/role-bindings', {
          token: org.owner.session,
          body: { userId: member.userId, role: 'ADMIN', scopeType: 'PROJECT', scopeId: projectId },
        });
        expect(bound.status).toBe(201);
        const ok = await call(server, 'POST', '/api/api-keys', {
          token: member.session,
          body: { name: 'project admin', bindings: [{ role: 'ADMIN', scopeType: 'PROJECT', scopeId: projectId }] },
        });
        expect(ok.status).toBe(201);
        const beyond = await call(server, 'POST', '/api/api-keys', {
          token: member.session,
          body: { name: 'other project', bindings: [{ role: 'ADMIN', scopeType: 'PROJECT', scopeId: other }] },
        });
        expect(beyond.status).toBe(403);
        expect(beyond.body.error).toBe('api_key_scope_violation');
      });
    });

    describe('privilege changes are atomic with their checks (R19)', () => {
      it('never leaves a working key for a member removed while an admin creates one for them', async () => {
        for (let round = 0; round < 5; round++) {
          const member = await org.addMember('MEMBER');
          const [created, removed] = await Promise.all([
            call(server, 'POST', '/api/api-keys', { token: org.owner.session, body: { name: `race ${round}`, assignedToUserId: member.userId } }),
            call(server, 'DELETE', `/api/members/${member.userId}`, { token: org.owner.session }),
          ]);
          expect(removed.status).toBe(200);
          expect([201, 404]).toContain(created.status);
          if (created.status === 201) {
            expect((await call(server, 'GET', '/api/auth/whoami', { token: created.body.token })).status).toBe(401);
            const key = await call(server, 'GET', `/api/api-keys/${created.body.apiKey.id}`, { token: org.owner.session });
            expect(key.body.status).toBe('disabled');
          }
        }
      });
    });

    describe('project-scoped service keys manage nothing (R15)', () => {
      it('answers 403 on keys, members, bindings, teams and projects', async () => {
        const scoped = await org.createKey(org.owner, { keyType: 'service', projectIds: [projectId], name: 'project service' });
        const token = scoped.token;
        const attempts: Array<[string, string, unknown]> = [
          ['GET', '/api/api-keys', undefined],
          ['POST', '/api/api-keys', { name: 'x', keyType: 'service', projectIds: [projectId] }],
          ['DELETE', `/api/api-keys/${scoped.apiKey.id}`, undefined],
          ['POST', `/api/api-keys/${scoped.apiKey.id}/roll`, {}],
          ['GET', '/api/members', undefined],
          ['POST', '/api/members', { email: `x-${Date.now()}@example.test`, role: 'ADMIN' }],
          ['GET', '/api/role-bindings', undefined],
          ['POST', '/api/role-bindings', { userId: org.owner.userId, role: 'ADMIN', scopeType: 'PROJECT', scopeId: projectId }],
          ['POST', '/api/teams', { name: 'team' }],
          ['POST', '/api/projects', { name: 'another' }],
          ['PATCH', `/api/projects/${projectId}`, { name: 'renamed' }],
        ];
        for (const [method, path, body] of attempts) {
          const answer = await call(server, method, path, { token, body });
          expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(403);
        }
        // It still works as a key on its project.
        const whoami = await call(server, 'GET', '/api/auth/whoami', { token });
        expect(whoami.status).toBe(200);
      });
    });
  });
}
