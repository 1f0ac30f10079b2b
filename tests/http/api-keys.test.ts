import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

for (const dialect of await dialects()) {
  describe(`/api/api-keys on ${dialect}`, () => {
    let server: TestServer;
    let org: OrgFixture;
    let other: OrgFixture;

    beforeAll(async () => {
      server = await startServer({ dialect });
      org = await createOrg(server);
      other = await createOrg(server);
    });
    afterAll(async () => server?.close());

    it('creates a personal key: 201, the token once, no-store, and a key that authenticates', async () => {
      const created = await call(server, 'POST', '/api/api-keys', { token: org.owner.session, body: { name: 'My dev key' } });
      expect(created.status).toBe(201);
      expect(created.headers.get('cache-control')).toBe('no-store');
      expect(created.body.token).toMatch(/^kw_[0-9A-Za-z]{16}_[0-9A-Za-z]{49}$/);
      expect(created.body.apiKey).toMatchObject({
        name: 'My dev key',
        keyType: 'personal',
        status: 'active',
        ownerUserId: org.owner.userId,
        createdByUserId: org.owner.userId,
        permissionMode: 'all',
        preview: `kw_…${created.body.token.slice(-4)}`,
        bindings: [{ role: 'ADMIN', scopeType: 'ORGANIZATION', scopeId: org.orgId }],
      });
      expect(created.body.warnings).toEqual([]);
      const whoami = await call(server, 'GET', '/api/auth/whoami', { token: created.body.token });
      expect(whoami.status).toBe(200);
      expect(whoami.body).toMatchObject({ principal: { type: 'api_key', id: created.body.apiKey.id }, organizationId: org.orgId, keyType: 'personal' });
      const got = await call(server, 'GET', `/api/api-keys/${created.body.apiKey.id}`, { token: org.owner.session });
      expect(got.status).toBe(200);
      expect(JSON.stringify(got.body)).not.toContain(created.body.token.slice(20, 40));
    });

    it('accepts the key as Bearer and as x-api-key; refuses two credentials with 400', async () => {
      const { token } = await org.createKey(org.owner);
      expect((await call(server, 'GET', '/api/auth/whoami', { headers: { 'x-api-key': token } })).status).toBe(200);
      expect((await call(server, 'GET', '/api/auth/whoami', { headers: { authorization: `bearer ${token}` } })).status).toBe(200);
      const both = await call(server, 'GET', '/api/auth/whoami', { token, headers: { 'x-api-key': token } });
      expect(both.status).toBe(400);
      expect(both.body.error).toBe('invalid_request');
      const query = await call(server, 'GET', `/api/auth/whoami?token=${token}`);
      expect(query.status).toBe(401);
    });

    it('answers 401 without a credential, with WWW-Authenticate', async () => {
      const res = await call(server, 'GET', '/api/api-keys');
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('unauthorized');
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="keyward"');
    });

    it('answers one identical 401 for unknown, revoked, expired, disabled and mistyped keys', async () => {
      const member = await org.addMember('MEMBER');
      const revoked = await org.createKey(org.owner);
      await call(server, 'DELETE', `/api/api-keys/${revoked.apiKey.id}`, { token: org.owner.session });
      const disabled = await org.createKey(member);
      await call(server, 'DELETE', `/api/members/${member.userId}`, { token: org.owner.session });
      const valid = await org.createKey(org.owner);
      const mistyped = valid.token.slice(0, -1) + (valid.token.endsWith('a') ? 'b' : 'a');
      const unknown = valid.token.replace(/^kw_[0-9A-Za-z]{16}/, 'kw_AAAAAAAAAAAAAAAA');
      const answers = [];
      for (const token of [revoked.token, disabled.token, mistyped, unknown, 'kw_nonsense', 'garbage']) {
        const res = await call(server, 'GET', '/api/auth/whoami', { token });
        answers.push({ status: res.status, body: { ...res.body, requestId: undefined }, auth: res.headers.get('www-authenticate') });
      }
      for (const answer of answers) expect(answer).toEqual(answers[0]);
      expect(answers[0]!.status).toBe(401);
    });

    it('lists keys newest first with status filters, search, type filter and a cursor', async () => {
      const fresh = await createOrg(server);
      const names = ['alpha one', 'beta two', 'Alpha three'];
      const ids: string[] = [];
      for (const name of names) ids.push((await fresh.createKey(fresh.owner, { name })).apiKey.id);
      await call(server, 'DELETE', `/api/api-keys/${ids[1]}`, { token: fresh.owner.session });
      const active = await call(server, 'GET', '/api/api-keys', { token: fresh.owner.session });
      expect(active.status).toBe(200);
      const activeNames = active.body.data.map((k: any) => k.name);
      expect(activeNames).toEqual(expect.arrayContaining(['alpha one', 'Alpha three']));
      expect(activeNames).not.toContain('beta two');
      expect(activeNames.indexOf('Alpha three')).toBeLessThan(activeNames.indexOf('alpha one'));
      const revoked = await call(server, 'GET', '/api/api-keys?status=revoked', { token: fresh.owner.session });
      expect(revoked.body.data.map((k: any) => k.name)).toEqual(['beta two']);
      const search = await call(server, 'GET', '/api/api-keys?status=all&q=ALPHA', { token: fresh.owner.session });
      expect(search.body.data.map((k: any) => k.name).sort()).toEqual(['Alpha three', 'alpha one']);
      const services = await call(server, 'GET', '/api/api-keys?keyType=service', { token: fresh.owner.session });
      expect(services.body.data.every((k: any) => k.keyType === 'service')).toBe(true);
      const page1 = await call(server, 'GET', '/api/api-keys?status=all&limit=2', { token: fresh.owner.session });
      expect(page1.body.data).toHaveLength(2);
      expect(page1.body.nextCursor).toEqual(expect.any(String));
      const page2 = await call(server, 'GET', `/api/api-keys?status=all&limit=2&cursor=${encodeURIComponent(page1.body.nextCursor)}`, { token: fresh.owner.session });
      const seen = [...page1.body.data, ...page2.body.data].map((k: any) => k.id);
      expect(new Set(seen).size).toBe(seen.length);
      const projects: string[] = [];
      for (const name of ['first', 'second']) {
        const made = await call(server, 'POST', '/api/projects', { token: fresh.owner.session, body: { name } });
        projects.push(made.body.project.id);
      }
      const first = await fresh.createKey(fresh.owner, { keyType: 'project', projectId: projects[0], name: 'first key' });
      await fresh.createKey(fresh.owner, { keyType: 'project', projectId: projects[1], name: 'second key' });
      const ofFirst = await call(server, 'GET', `/api/api-keys?projectId=${projects[0]}`, { token: fresh.owner.session });
      expect(ofFirst.body.data.map((k: any) => k.id)).toEqual([first.apiKey.id]);
      const ofNone = await call(server, 'GET', '/api/api-keys?projectId=proj_unknown', { token: fresh.owner.session });
      expect(ofNone.body.data).toEqual([]);
      for (const limit of ['0', '101', 'x']) {
        const bad = await call(server, 'GET', `/api/api-keys?limit=${limit}`, { token: fresh.owner.session });
        expect(bad.status).toBe(422);
        expect(bad.body.error).toBe('validation_failed');
      }
    });

    it('refuses a past expiry with 422 and per-field reasons', async () => {
      const res = await call(server, 'POST', '/api/api-keys', {
        token: org.owner.session,
        body: { name: 'x', expiresAt: new Date(Date.now() - 1000).toISOString() },
      });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ error: 'validation_failed', reasons: [{ path: 'expiresAt' }] });
    });

    it('answers 422 for a body that fails validation, listing each field', async () => {
      const res = await call(server, 'POST', '/api/api-keys', { token: org.owner.session, body: { name: '', keyType: 'weird', allowedCidrs: 'x' } });
      expect(res.status).toBe(422);
      const paths = res.body.reasons.map((r: any) => r.path);
      expect(paths).toEqual(expect.arrayContaining(['name', 'keyType', 'allowedCidrs']));
    });

    it('refuses what a member cannot grant with 403 api_key_scope_violation, never clamping', async () => {
      const member = await org.addMember('MEMBER');
      const res = await call(server, 'POST', '/api/api-keys', {
        token: member.session,
        body: { name: 'too much', bindings: [{ role: 'ADMIN', scopeType: 'ORGANIZATION', scopeId: org.orgId }] },
      });
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('api_key_scope_violation');
      const restricted = await call(server, 'POST', '/api/api-keys', {
        token: member.session,
        body: { name: 'secrets', permissionMode: 'restricted', permissions: ['secrets:write'] },
      });
      expect(restricted.status).toBe(403);
      expect(restricted.body.error).toBe('api_key_scope_violation');
    });

    it('lets only admins create service and project keys (403 insufficient_permissions)', async () => {
      const member = await org.addMember('MEMBER');
      const res = await call(server, 'POST', '/api/api-keys', { token: member.session, body: { name: 'svc', keyType: 'service' } });
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('insufficient_permissions');
      const ok = await call(server, 'POST', '/api/api-keys', { token: org.owner.session, body: { name: 'svc', keyType: 'service' } });
      expect(ok.status).toBe(201);
      expect(ok.body.apiKey).toMatchObject({ keyType: 'service', ownerUserId: null, bindings: [{ role: 'ADMIN', scopeType: 'ORGANIZATION' }] });
      expect(ok.body.warnings.map((w: any) => w.code)).toEqual(expect.arrayContaining(['service_key_organization_wide', 'service_key_without_expiry']));
    });

    it('shows members their own keys and service keys; 403 api_key_not_owned on a visible key that is not theirs; 404 otherwise', async () => {
      const a = await org.addMember('MEMBER');
      const b = await org.addMember('MEMBER');
      const aKey = await org.createKey(a);
      const service = await org.createKey(org.owner, { keyType: 'service' });
      const list = await call(server, 'GET', '/api/api-keys', { token: b.session });
      const ids = list.body.data.map((k: any) => k.id);
      expect(ids).toContain(service.apiKey.id);
      expect(ids).not.toContain(aKey.apiKey.id);
      expect((await call(server, 'GET', `/api/api-keys/${aKey.apiKey.id}`, { token: b.session })).status).toBe(404);
      const notOwned = await call(server, 'DELETE', `/api/api-keys/${service.apiKey.id}`, { token: b.session });
      expect(notOwned.status).toBe(403);
      expect(notOwned.body.error).toBe('api_key_not_owned');
      const hidden = await call(server, 'DELETE', `/api/api-keys/${aKey.apiKey.id}`, { token: b.session });
      expect(hidden.status).toBe(404);
      expect(hidden.body.error).toBe('api_key_not_found');
      expect((await call(server, 'DELETE', `/api/api-keys/${aKey.apiKey.id}`, { token: a.session })).status).toBe(200);
    });

    it('revokes permanently and immediately: 200, then 409, and the key stops authenticating', async () => {
      const { token, apiKey } = await org.createKey(org.owner);
      expect((await call(server, 'GET', '/api/auth/whoami', { token })).status).toBe(200);
      const revoked = await call(server, 'DELETE', `/api/api-keys/${apiKey.id}`, { token: org.owner.session });
      expect(revoked.status).toBe(200);
      expect(revoked.body).toEqual({ success: true });
      expect((await call(server, 'GET', '/api/auth/whoami', { token })).status).toBe(401);
      const again = await call(server, 'DELETE', `/api/api-keys/${apiKey.id}`, { token: org.owner.session });
      expect(again.status).toBe(409);
      expect(again.body.error).toBe('api_key_already_revoked');
      const edit = await call(server, 'PATCH', `/api/api-keys/${apiKey.id}`, { token: org.owner.session, body: { name: 'x' } });
      expect(edit.status).toBe(409);
      const roll = await call(server, 'POST', `/api/api-keys/${apiKey.id}/roll`, { token: org.owner.session, body: {} });
      expect(roll.status).toBe(409);
    });

    it('edits name, description, expiry and access, warning about wildcard ranges and live keys', async () => {
      const { token, apiKey } = await org.createKey(org.owner);
      await call(server, 'GET', '/api/auth/whoami', { token });
      await server.composed.services.usage.flush();
      const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
      const res = await call(server, 'PATCH', `/api/api-keys/${apiKey.id}`, {
        token: org.owner.session,
        body: { name: 'renamed', description: 'd', expiresAt, allowedCidrs: ['0.0.0.0/0', '10.0.0.0/8'] },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: 'renamed', description: 'd', expiresAt, allowedCidrs: ['0.0.0.0/0', '10.0.0.0/8'] });
      expect(res.body.warnings.map((w: any) => w.code)).toEqual(expect.arrayContaining(['allowed_cidrs_wildcard', 'access_changed_while_in_use']));
    });

    it('rolls with an overlap: both secrets work until oldKeyExpiresAt, which cannot outlive the key', async () => {
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      const { token: oldToken, apiKey } = await org.createKey(org.owner, { expiresAt });
      const tooLate = await call(server, 'POST', `/api/api-keys/${apiKey.id}/roll`, {
        token: org.owner.session,
        body: { oldKeyExpiresAt: new Date(Date.now() + 7_200_000).toISOString() },
      });
      expect(tooLate.status).toBe(422);
      const overlap = new Date(Date.now() + 600_000).toISOString();
      const rolled = await call(server, 'POST', `/api/api-keys/${apiKey.id}/roll`, { token: org.owner.session, body: { oldKeyExpiresAt: overlap } });
      expect(rolled.status).toBe(201);
      expect(rolled.headers.get('cache-control')).toBe('no-store');
      expect(rolled.body.apiKey.id).toBe(apiKey.id);
      expect(rolled.body.token).not.toBe(oldToken);
      expect((await call(server, 'GET', '/api/auth/whoami', { token: oldToken })).status).toBe(200);
      expect((await call(server, 'GET', '/api/auth/whoami', { token: rolled.body.token })).status).toBe(200);
      const immediate = await call(server, 'POST', `/api/api-keys/${apiKey.id}/roll`, { token: org.owner.session });
      expect(immediate.status).toBe(201);
      expect((await call(server, 'GET', '/api/auth/whoami', { token: rolled.body.token })).status).toBe(401);
      expect((await call(server, 'GET', '/api/auth/whoami', { token: immediate.body.token })).status).toBe(200);
    });

    it("answers 404 for another organization's key ids on every route, changing nothing", async () => {
      const theirs = await other.createKey(other.owner);
      const id = theirs.apiKey.id;
      for (const [method, path, body] of [
        ['GET', `/api/api-keys/${id}`, undefined],
        ['PATCH', `/api/api-keys/${id}`, { name: 'pwned' }],
        ['POST', `/api/api-keys/${id}/roll`, {}],
        ['DELETE', `/api/api-keys/${id}`, undefined],
        ['GET', `/api/api-keys/${id}/usage`, undefined],
      ] as const) {
        const res = await call(server, method, path, { token: org.owner.session, body });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body.error).toBe('api_key_not_found');
      }
      expect((await call(server, 'GET', '/api/auth/whoami', { token: theirs.token })).status).toBe(200);
      const still = await call(server, 'GET', `/api/api-keys/${id}`, { token: other.owner.session });
      expect(still.body).toMatchObject({ name: theirs.apiKey.name, status: 'active' });
    });

    it('refuses a legacy project key on organization routes with 401 credential_class_mismatch', async () => {
      const project = await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: 'legacy' } });
      const created = await org.createKey(org.owner, { keyType: 'project', projectId: project.body.project.id });
      expect(created.token).toMatch(/^kw_[0-9A-Za-z]{49}$/);
      const res = await call(server, 'GET', '/api/api-keys', { headers: { 'x-auth-token': created.token } });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('credential_class_mismatch');
      const whoami = await call(server, 'GET', '/api/auth/whoami', { headers: { 'x-auth-token': created.token } });
      expect(whoami.status).toBe(200);
      expect(whoami.body).toMatchObject({ keyType: 'project', projectId: project.body.project.id });
    });

    it('lets an admin key with organization:manage manage keys, and refuses a member key', async () => {
      const viaKey = await call(server, 'GET', '/api/api-keys', { token: org.adminKey });
      expect(viaKey.status).toBe(200);
      const member = await org.addMember('MEMBER');
      const memberKey = await org.createKey(member);
      const refused = await call(server, 'GET', '/api/api-keys', { token: memberKey.token });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe('insufficient_permissions');
      const noOwner = await call(server, 'POST', '/api/api-keys', { token: org.adminKey, body: { name: 'p' } });
      expect(noOwner.status).toBe(422);
      const assigned = await call(server, 'POST', '/api/api-keys', { token: org.adminKey, body: { name: 'p', assignedToUserId: member.userId } });
      expect(assigned.status).toBe(201);
      expect(assigned.body.apiKey.ownerUserId).toBe(member.userId);
      expect(assigned.body.apiKey.bindings[0].role).toBe('MEMBER');
    });
  });
}
