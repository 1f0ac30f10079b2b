import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier } from '@keyward/core';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

for (const dialect of await dialects()) {
  describe(`POST /api/keys/verify on ${dialect}`, () => {
    let server: TestServer;
    let org: OrgFixture;
    let other: OrgFixture;
    let verifier: string;
    let scopedVerifier: string;
    let projectId: string;
    let secondProject: string;

    const verify = async (body: Record<string, unknown>, token = verifier) => call(server, 'POST', '/api/keys/verify', { token, body });

    beforeAll(async () => {
      server = await startServer({ dialect });
      org = await createOrg(server);
      other = await createOrg(server);
      const deps = server.composed.services.deps;
      verifier = (await createVerifier(deps, { name: 'gateway', orgId: null })).token;
      scopedVerifier = (await createVerifier(deps, { name: 'scoped', orgId: org.orgId as never })).token;
      projectId = (await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: 'one' } })).body.project.id;
      secondProject = (await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: 'two' } })).body.project.id;
    });
    afterAll(async () => server?.close());

    it('answers VALID with the key facts, its permissions and an explanation', async () => {
      const { token, apiKey } = await org.createKey(org.owner);
      const res = await verify({ key: token, projectId, permission: 'traces:write' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        valid: true,
        code: 'VALID',
        keyId: apiKey.id,
        organizationId: org.orgId,
        keyType: 'personal',
        ownerUserId: org.owner.userId,
        projectId,
        expiresAt: null,
        explanation: expect.stringMatching(/traces:write granted by key binding ADMIN on the organization; within the owner's org role OWNER/),
      });
      expect(res.body.permissions).toContain('traces:write');
    });

    it('answers NOT_FOUND for unknown, mistyped and foreign-to-the-verifier keys, alike', async () => {
      const { token } = await other.createKey(other.owner);
      // Two checksum characters changed (to something else whatever they were: 1 token in 3,844 ends in zz).
      const mistyped = `${token.slice(0, -2)}${token.endsWith('zz') ? 'yy' : 'zz'}`;
      for (const key of ['kw_nothing', mistyped, 'x'.repeat(300)]) {
        const res = await verify({ key });
        expect(res.body).toMatchObject({ valid: false, code: 'NOT_FOUND' });
        expect(res.body.keyId).toBeUndefined();
      }
      const foreign = await verify({ key: token }, scopedVerifier);
      expect(foreign.body).toEqual({ valid: false, code: 'NOT_FOUND', explanation: 'no such key' });
      expect((await verify({ key: token })).body.code).toBe('VALID');
    });

    it('answers REVOKED, EXPIRED and DISABLED with the reason for the operator', async () => {
      const revoked = await org.createKey(org.owner);
      await call(server, 'DELETE', `/api/api-keys/${revoked.apiKey.id}`, { token: org.owner.session });
      expect((await verify({ key: revoked.token })).body).toMatchObject({ valid: false, code: 'REVOKED', explanation: expect.stringMatching(/^revoked at/) });

      const member = await org.addMember('MEMBER');
      const disabled = await org.createKey(member);
      await call(server, 'DELETE', `/api/members/${member.userId}`, { token: org.owner.session });
      expect((await verify({ key: disabled.token })).body).toMatchObject({ valid: false, code: 'DISABLED' });
    });

    it('checks a permission without a project at organization scope, in the one project of a single-project key, and asks a key reaching only some projects to name one', async () => {
      // Organization-wide rights answer at organization scope (issue 12, docs/decisions/0003-organization-level-checks.md).
      const { token } = await org.createKey(org.owner);
      const orgWide = await verify({ key: token, permission: 'traces:write' });
      expect(orgWide.body).toMatchObject({ valid: true, code: 'VALID', projectId: null, explanation: expect.stringMatching(/^at organization scope/) });
      // A single-project key keeps meaning its project.
      const single = await org.createKey(org.owner, { keyType: 'service', projectIds: [projectId] });
      expect((await verify({ key: single.token, permission: 'traces:read' })).body).toMatchObject({ valid: true, projectId });
      // A key whose rights reach only some projects must name one.
      const second = (await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: `second-${Date.now()}` } })).body.project.id;
      const several = await org.createKey(org.owner, { keyType: 'service', projectIds: [projectId, second] });
      expect((await verify({ key: several.token, permission: 'traces:read' })).body).toMatchObject({ valid: false, code: 'PROJECT_REQUIRED' });
      expect((await verify({ key: several.token, permission: 'traces:read', projectId: second })).body).toMatchObject({ valid: true, projectId: second });
      // An organization-wide key that lacks the permission everywhere is refused outright.
      const reader = await org.createKey(org.owner, { keyType: 'service', permissionMode: 'restricted', permissions: ['traces:read'] });
      expect((await verify({ key: reader.token, permission: 'traces:write' })).body).toMatchObject({ valid: false, code: 'INSUFFICIENT_PERMISSIONS' });
      expect((await verify({ key: reader.token, permission: 'traces:read' })).body).toMatchObject({ valid: true, code: 'VALID' });
    });

    it('answers INSUFFICIENT_PERMISSIONS for a project outside the key, and explains the owner cap', async () => {
      const single = await org.createKey(org.owner, { keyType: 'service', projectIds: [projectId] });
      const res = await verify({ key: single.token, projectId: secondProject, permission: 'traces:read' });
      expect(res.body).toMatchObject({ valid: false, code: 'INSUFFICIENT_PERMISSIONS' });
      const foreignProject = (await call(server, 'POST', '/api/projects', { token: other.owner.session, body: { name: 'x' } })).body.project.id;
      const { token } = await org.createKey(org.owner);
      expect((await verify({ key: token, projectId: foreignProject, permission: 'traces:read' })).body).toMatchObject({
        valid: false,
        code: 'INSUFFICIENT_PERMISSIONS',
        explanation: expect.stringContaining('not in the key'),
      });
      const viewer = await org.addMember('MEMBER');
      const viewerKey = await org.createKey(viewer);
      await call(server, 'PATCH', `/api/members/${viewer.userId}`, { token: org.owner.session, body: { role: 'VIEWER' } });
      const capped = await verify({ key: viewerKey.token, projectId, permission: 'traces:write' });
      expect(capped.body).toMatchObject({ valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: expect.stringContaining("capped by the owner's current rights") });
      expect((await verify({ key: viewerKey.token, projectId, permission: 'traces:read' })).body.valid).toBe(true);
    });

    it('matches actions on resources against scopes', async () => {
      const { token } = await org.createKey(org.owner, { scopes: [{ action: 'write', resource: `projects/${projectId}/datasets` }] });
      expect((await verify({ key: token, action: 'write', resource: `projects/${projectId}/datasets/ds_1` })).body.valid).toBe(true);
      expect((await verify({ key: token, action: 'admin', resource: `projects/${projectId}/datasets/ds_1` })).body.code).toBe('INSUFFICIENT_PERMISSIONS');
      expect((await verify({ key: token, action: 'read', resource: `projects/${projectId}/traces` })).body.code).toBe('INSUFFICIENT_PERMISSIONS');
      const bad = await verify({ key: token, action: 'read', resource: 'projects/../x' });
      expect(bad.status).toBe(422);
    });

    it('checks IP allowlists per family, unmapping IPv4-mapped addresses (R20–R22)', async () => {
      const v4 = await org.createKey(org.owner, { allowedCidrs: ['10.0.0.0/8'] });
      expect((await verify({ key: v4.token, ip: '10.1.2.3' })).body.valid).toBe(true);
      expect((await verify({ key: v4.token, ip: '::ffff:10.1.2.3' })).body.valid).toBe(true);
      expect((await verify({ key: v4.token, ip: '11.1.2.3' })).body.code).toBe('IP_NOT_ALLOWED');
      expect((await verify({ key: v4.token, ip: '2001:db8::1' })).body.code).toBe('IP_NOT_ALLOWED');
      expect((await verify({ key: v4.token, ip: '010.1.2.3' })).body.code).toBe('IP_NOT_ALLOWED');
      expect((await verify({ key: v4.token })).body.code).toBe('IP_NOT_ALLOWED');
      const v6 = await org.createKey(org.owner, { allowedCidrs: ['::/0'] });
      expect((await verify({ key: v6.token, ip: '10.1.2.3' })).body.code).toBe('IP_NOT_ALLOWED');
      expect((await verify({ key: v6.token, ip: '2001:db8::1' })).body.valid).toBe(true);
    });

    it('answers 422 unknown_permission, naming it and the nearest one, for a permission outside the catalogue', async () => {
      const { token } = await org.createKey(org.owner);
      const typo = await verify({ key: token, permission: 'trace:write' });
      expect(typo.status).toBe(422);
      expect(typo.body).toMatchObject({ error: 'unknown_permission', permission: 'trace:write', didYouMean: 'traces:write' });
      expect(typo.body.message).toContain('did you mean "traces:write"');
      const unrelated = await verify({ key: token, permission: 'widgets:read' });
      expect(unrelated.status).toBe(422);
      expect(unrelated.body).toMatchObject({ error: 'unknown_permission', permission: 'widgets:read' });
      // Whatever the key: the ask is wrong before any key is looked at.
      expect((await verify({ key: 'kw_nothing', permission: 'widgets:read' })).body.error).toBe('unknown_permission');
    });

    it('accepts only verifier credentials: an API key or nothing is 401; no key is 422', async () => {
      const { token } = await org.createKey(org.owner);
      expect((await verify({ key: token }, org.adminKey)).status).toBe(401);
      const none = await call(server, 'POST', '/api/keys/verify', { body: { key: token } });
      expect(none.status).toBe(401);
      // It says what is needed here: a verifier credential, not "an API key or a session token".
      expect(none.body.message).toMatch(/verifier credential/);
      const missing = await verify({});
      expect(missing.status).toBe(422);
      expect(missing.body.reasons[0].path).toBe('key');
    });

    it('refuses malformed and oversized bodies with 4xx, never 5xx', async () => {
      const send = (rawBody: string, type = 'application/json') =>
        call(server, 'POST', '/api/keys/verify', { token: verifier, rawBody, headers: { 'content-type': type } });
      expect((await send('{"key":')).body.error).toBe('invalid_request');
      expect((await send('{"key":"x","__proto__":{"a":1}}')).status).toBe(400);
      expect((await send('key=x', 'text/plain')).status).toBe(415);
      const huge = await send(JSON.stringify({ key: 'k'.repeat(70 * 1024) }));
      expect(huge.status).toBe(413);
      expect(huge.body.error).toBe('payload_too_large');
    });

    it('counts verifications per key without writing per request, and records lastUsedAt', async () => {
      const { token, apiKey } = await org.createKey(org.owner);
      for (let i = 0; i < 7; i++) await verify({ key: token });
      for (let i = 0; i < 3; i++) await verify({ key: token, ip: '1.2.3.4', projectId, permission: 'traces:read' });
      const usage = await call(server, 'GET', `/api/api-keys/${apiKey.id}/usage?interval=minute`, { token: org.owner.session });
      expect(usage.status).toBe(200);
      expect(usage.body.totals).toEqual({ valid: 10, rejected: 0, rejectedByCode: {} });
      const key = await call(server, 'GET', `/api/api-keys/${apiKey.id}`, { token: org.owner.session });
      expect(key.body.lastUsedAt).toEqual(expect.any(String));
      const denied = await org.createKey(org.owner, { allowedCidrs: ['10.0.0.0/8'] });
      await verify({ key: denied.token, ip: '8.8.8.8' });
      const deniedUsage = await call(server, 'GET', `/api/api-keys/${denied.apiKey.id}/usage`, { token: org.owner.session });
      expect(deniedUsage.body.totals).toEqual({ valid: 0, rejected: 1, rejectedByCode: { IP_NOT_ALLOWED: 1 } });
      const orgUsage = await call(server, 'GET', '/api/usage?interval=hour', { token: org.owner.session });
      expect(orgUsage.body.topKeys[0]).toMatchObject({ keyId: apiKey.id, valid: 10, name: apiKey.name });
    });
  });
}

describe('the verifier cache bound (KEYWARD_VERIFIER_CACHE_ENTRIES)', () => {
  it('holds no more entries than configured, and keys beyond it still verify from the database', async () => {
    const server = await startServer({ env: { KEYWARD_VERIFIER_CACHE_ENTRIES: '100' } });
    try {
      const org = await createOrg(server);
      const verifier = (await createVerifier(server.composed.services.deps, { name: 'gateway', orgId: null })).token;
      const keys = await Promise.all(Array.from({ length: 120 }, (_, i) => org.createKey(org.owner, { name: `key ${i}` })));
      for (const round of [1, 2]) {
        for (const { token } of keys) {
          const answer = await call(server, 'POST', '/api/keys/verify', { token: verifier, body: { key: token } });
          expect(answer.body.valid, `round ${round}`).toBe(true);
        }
      }
      // The setting counts keys; their owner (the keys are personal) is held apart.
      expect(server.composed.services.verdictCache.keyCount).toBeLessThanOrEqual(100);
      expect(server.composed.services.verdictCache.size).toBeLessThanOrEqual(101);
      expect((await call(server, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await server.close();
    }
    const refused = await startServer({ env: { KEYWARD_VERIFIER_CACHE_ENTRIES: 'lots' } }).catch((err: unknown) => err);
    expect(String(refused)).toContain('KEYWARD_VERIFIER_CACHE_ENTRIES');
  });
});

describe('client addresses behind proxies (R22)', () => {
  it('trusts X-Forwarded-For only from configured proxies', async () => {
    const untrusted = await startServer({ env: { KEYWARD_TRUSTED_PROXIES: '192.0.2.0/24' } });
    const trusted = await startServer({ env: { KEYWARD_TRUSTED_PROXIES: '127.0.0.1/32' } });
    try {
      for (const [server, expected] of [
        [untrusted, 403],
        [trusted, 200],
      ] as const) {
        const org = await createOrg(server);
        const { token } = await org.createKey(org.owner, { allowedCidrs: ['203.0.113.0/24'] });
        const res = await call(server, 'GET', '/api/auth/whoami', { token, headers: { 'x-forwarded-for': '203.0.113.7' } });
        expect(res.status).toBe(expected);
      }
    } finally {
      await untrusted.close();
      await trusted.close();
    }
  });
});

describe('leak reports (R4)', () => {
  it('revokes a reported live key at once, records where it was found, and answers alike for anything', async () => {
    const server = await startServer();
    try {
      const org = await createOrg(server);
      const { token, apiKey } = await org.createKey(org.owner);
      const report = await call(server, 'POST', '/api/keys/leaked', { body: { key: token, source: 'github-secret-scanning', url: 'https://github.com/acme/app/blob/main/.env' } });
      expect(report.status).toBe(202);
      expect(report.body).toEqual({ status: 'received' });
      expect(report.text).not.toContain(token.slice(20));
      expect((await call(server, 'GET', '/api/auth/whoami', { token })).status).toBe(401);
      const key = await call(server, 'GET', `/api/api-keys/${apiKey.id}`, { token: org.owner.session });
      expect(key.body).toMatchObject({ status: 'revoked', revokedReason: 'leaked' });
      const audit = await call(server, 'GET', `/api/audit-log?targetId=${apiKey.id}&action=api_key.leaked`, { token: org.owner.session });
      expect(audit.body.data[0].details).toMatchObject({ source: 'github-secret-scanning', url: 'https://github.com/acme/app/blob/main/.env' });
      // Revoked on a leak report, not by an operator (issue 12); the actor names the channel (issue 15).
      expect(audit.body.data[0].actor).toEqual({ type: 'leak_report', id: 'report_endpoint' });
      for (const key of [token, 'kw_nothing', `${token.slice(0, -1)}x`]) {
        const again = await call(server, 'POST', '/api/keys/leaked', { body: { key } });
        expect(again.status).toBe(202);
        expect(again.body).toEqual({ status: 'received' });
      }
    } finally {
      await server.close();
    }
  });
});
