import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrganization } from '@keyward/core';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

/** A clock the test moves by hand: the denial window is measured on server time, never by sleeping. */
function manualClock(start: Date) {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (ms: number) => void (now += ms) };
}

/**
 * SECURITY.md R42: an audit entry per security event, with a UTC instant, the actor (user id, or key
 * id and preview), the organization, action, target, outcome, source address and request id. 403
 * denials are audited without letting one caller grow the log without bound. @see issue 10
 */
for (const dialect of await dialects()) {
  describe(`security events in the audit log on ${dialect}`, () => {
    const clock = manualClock(new Date());
    let server: TestServer;
    let org: OrgFixture;

    beforeAll(async () => {
      server = await startServer({ dialect, clock });
      org = await createOrg(server);
    });
    afterAll(async () => server?.close());

    const log = async (query: string) => {
      const res = await call(server, 'GET', `/api/audit-log?limit=100&${query}`, { token: org.owner.session });
      expect(res.status, res.text).toBe(200);
      return res.body.data as any[];
    };

    /** The fields R42 asks of every entry, and the request id the answer carried. */
    const expectRecorded = (entry: any, requestId: string | null) => {
      expect(entry.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(entry.ip).toEqual(expect.any(String));
      expect(entry.requestId).toBe(requestId);
    };

    it('audits the first of 200 identical forbidden requests, then at most one a minute that counts the repeats left out', async () => {
      const viewer = await org.addMember('VIEWER');
      const denials = () => log(`actorId=${viewer.userId}&action=authorization.denied`);
      const forbidden = () => call(server, 'POST', '/api/teams', { token: viewer.session, body: { name: 'not yours' } });

      const first = await forbidden();
      expect(first.status).toBe(403);
      const [entry, ...rest] = await denials();
      expect(rest).toEqual([]);
      expect(entry).toMatchObject({
        action: 'authorization.denied',
        outcome: 'denied',
        actor: { type: 'user', id: viewer.userId },
        details: { method: 'POST', route: '/api/teams', code: 'insufficient_permissions' },
      });
      expect(entry.details.suppressedRepeats).toBeUndefined();
      expectRecorded(entry, first.headers.get('x-request-id'));

      for (let batch = 0; batch < 199; batch += 20) {
        const answers = await Promise.all(Array.from({ length: Math.min(20, 199 - batch) }, forbidden));
        expect(answers.map((a) => a.status)).toEqual(answers.map(() => 403));
      }
      expect(await denials()).toHaveLength(1);

      // Another route, and another caller, each have their first denial audited at once.
      expect((await call(server, 'GET', '/api/audit-log', { token: viewer.session })).status).toBe(403);
      const otherViewer = await org.addMember('VIEWER');
      expect((await call(server, 'POST', '/api/teams', { token: otherViewer.session, body: { name: 'nor yours' } })).status).toBe(403);
      expect((await denials()).map((e) => e.details.route)).toEqual(['/api/audit-log', '/api/teams']);
      expect(await log(`actorId=${otherViewer.userId}&action=authorization.denied`)).toHaveLength(1);

      clock.advance(61_000);
      expect((await forbidden()).status).toBe(403);
      const after = await denials();
      expect(after).toHaveLength(3);
      expect(after[0].details).toMatchObject({ route: '/api/teams', suppressedRepeats: 199 });
    });

    it('coalesces the denials of an API key by key, with its preview as the actor', async () => {
      const member = await org.addMember('MEMBER');
      const { token, apiKey } = await org.createKey(member);
      for (let i = 0; i < 30; i++) {
        expect((await call(server, 'GET', '/api/audit-log', { token })).status).toBe(403);
      }
      const entries = await log(`actorId=${apiKey.id}&action=authorization.denied`);
      expect(entries).toHaveLength(1);
      expect(entries[0].actor).toEqual({ type: 'api_key', id: apiKey.id, preview: apiKey.preview });
    });

    it('audits key creation, roll and revocation by an API key with its id and preview, address and request id', async () => {
      const adminKeyId = (await call(server, 'GET', '/api/auth/whoami', { token: org.adminKey })).body.principal.id;
      const adminKey = (await call(server, 'GET', `/api/api-keys/${adminKeyId}`, { token: org.owner.session })).body;
      const created = await call(server, 'POST', '/api/api-keys', { token: org.adminKey, body: { name: 'audited by key', keyType: 'service' } });
      expect(created.status, created.text).toBe(201);
      const keyId = created.body.apiKey.id;
      const rolled = await call(server, 'POST', `/api/api-keys/${keyId}/roll`, { token: org.adminKey });
      expect(rolled.status, rolled.text).toBe(201);
      const revoked = await call(server, 'DELETE', `/api/api-keys/${keyId}`, { token: org.adminKey });
      expect(revoked.status, revoked.text).toBe(200);

      const entries = await log(`targetId=${keyId}`);
      expect(entries.map((e) => e.action)).toEqual(['api_key.revoked', 'api_key.rolled', 'api_key.created']);
      const answers = [revoked, rolled, created];
      entries.forEach((entry, i) => {
        expect(entry).toMatchObject({ targetType: 'api_key', outcome: 'success', actor: { type: 'api_key', id: adminKeyId, preview: adminKey.preview } });
        expectRecorded(entry, answers[i]!.headers.get('x-request-id'));
      });
      expect(JSON.stringify(entries)).not.toContain(created.body.token.slice(-20));
    });

    it('audits a failed login to an existing account in its organization, at most once a minute with the repeats counted', async () => {
      const member = await org.addMember('MEMBER');
      const failures = () => log(`targetId=${member.userId}&action=auth.login_failed`);
      /** The entry is written once the answer is out (timing must not tell accounts apart): wait for it. */
      const eventually = async (count: number) => {
        for (let i = 0; i < 100 && (await failures()).length < count; i++) await new Promise((r) => setTimeout(r, 20));
        return failures();
      };
      const wrong = () => call(server, 'POST', '/api/auth/login', { body: { email: member.email.toUpperCase(), password: 'not-the-password' } });

      const first = await wrong();
      expect(first.status).toBe(401);
      const [entry] = await eventually(1);
      expect(entry).toMatchObject({ action: 'auth.login_failed', outcome: 'failure', actor: { type: 'user', id: member.userId }, targetType: 'user', details: {} });
      expectRecorded(entry, first.headers.get('x-request-id'));

      for (let i = 0; i < 10; i++) expect((await wrong()).status).toBe(401);
      expect((await call(server, 'POST', '/api/auth/login', { body: { email: `nobody-${randomBytes(4).toString('hex')}@example.test`, password: 'x' } })).status).toBe(401);
      await new Promise((r) => setTimeout(r, 200));
      expect(await failures()).toHaveLength(1);

      clock.advance(61_000);
      expect((await wrong()).status).toBe(401);
      const after = await eventually(2);
      expect(after).toHaveLength(2);
      expect(after[0].details).toEqual({ suppressedRepeats: 10 });
      expect((await call(server, 'POST', '/api/auth/login', { body: { email: member.email, password: member.password } })).status).toBe(200);
    });

    it('audits a revoked key presented to the API in its organization, at most once a minute, and answers it like an unknown key', async () => {
      const { token, apiKey } = await org.createKey(org.owner);
      expect((await call(server, 'DELETE', `/api/api-keys/${apiKey.id}`, { token: org.owner.session })).status).toBe(200);
      const rejections = () => log(`targetId=${apiKey.id}&action=auth.key_rejected`);
      const refused = await call(server, 'GET', '/api/api-keys', { token });
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe('unauthorized');
      for (let i = 0; i < 100 && (await rejections()).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 5; i++) expect((await call(server, 'GET', '/api/api-keys', { token })).status).toBe(401);
      await new Promise((r) => setTimeout(r, 200));
      const entries = await rejections();
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ outcome: 'failure', actor: { type: 'api_key', id: apiKey.id, preview: apiKey.preview }, targetType: 'api_key', details: { code: 'REVOKED' } });
      expectRecorded(entries[0], refused.headers.get('x-request-id'));
    });

    it('audits a role change with the roles before and after', async () => {
      const member = await org.addMember('MEMBER');
      const changed = await call(server, 'PATCH', `/api/members/${member.userId}`, { token: org.owner.session, body: { role: 'ADMIN' } });
      expect(changed.status, changed.text).toBe(200);
      const [entry] = await log(`targetId=${member.userId}&action=member.role_changed`);
      expect(entry).toMatchObject({ actor: { type: 'user', id: org.owner.userId }, targetType: 'user', outcome: 'success', details: { from: 'MEMBER', to: 'ADMIN' } });
      expectRecorded(entry, changed.headers.get('x-request-id'));
    });

    it('audits the bootstrap of an organization by its owner', async () => {
      const email = `boot-${randomBytes(4).toString('hex')}@example.test`;
      const password = `pw-${randomBytes(8).toString('hex')}`;
      const made = await createOrganization(server.composed.services.deps, { name: 'Later', ownerEmail: email, ownerPassword: password, bootstrap: false, createAdminKey: false });
      const session = (await call(server, 'POST', '/api/auth/login', { body: { email, password } })).body.sessionToken;
      const headers = { 'x-organization-id': made.organization.id };
      const booted = await call(server, 'POST', '/api/organization/bootstrap', { token: session, headers });
      expect(booted.status, booted.text).toBe(200);
      const entries = (await call(server, 'GET', '/api/audit-log?action=organization.bootstrapped', { token: session, headers })).body.data;
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ actor: { type: 'user', id: made.ownerUserId }, targetType: 'organization', targetId: made.organization.id, outcome: 'success' });
      expectRecorded(entries[0], booted.headers.get('x-request-id'));
    });
  });
}
