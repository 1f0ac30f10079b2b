import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

/**
 * Revocation reasons and the second roll (CONTRACT.md, "Your own API", and issue 12): a revoke may
 * say why, and the key and its audit entry keep it; Keyward's own revocations say theirs; a roll that
 * ends an earlier roll's overlap says so in `warnings`.
 * @see issue 12
 */
for (const dialect of await dialects()) {
  describe(`revocation reasons and the second roll on ${dialect}`, () => {
    let server: TestServer;
    let org: OrgFixture;
    const headers = () => ({ 'x-organization-id': org.orgId });
    const revoke = (id: string, body?: unknown, token = org.owner.session) => call(server, 'DELETE', `/api/api-keys/${id}`, { token, headers: headers(), ...(body === undefined ? {} : { body }) });
    const get = (id: string) => call(server, 'GET', `/api/api-keys/${id}`, { token: org.owner.session, headers: headers() });
    const auditOf = async (id: string, action: string) =>
      (await call(server, 'GET', `/api/audit-log?targetId=${id}&action=${action}`, { token: org.owner.session, headers: headers() })).body.data;

    beforeAll(async () => {
      server = await startServer({ dialect });
      org = await createOrg(server);
    });
    afterAll(async () => server?.close());

    it('keeps the reason a revoke gives on the key, in the list and in the audit entry', async () => {
      const { apiKey, token } = await org.createKey(org.owner, { name: 'laptop key' });
      const before = await get(apiKey.id);
      expect(before.body).toMatchObject({ revokedAt: null, revokedReason: null });
      const reason = 'Laptop stolen on the 3rd — ticket SEC-1042 ✓';
      const revoked = await revoke(apiKey.id, { reason });
      expect(revoked.status, revoked.text).toBe(200);
      expect(revoked.body).toEqual({ success: true });
      const after = await get(apiKey.id);
      expect(after.body).toMatchObject({ status: 'revoked', revokedReason: reason });
      expect(Date.parse(after.body.revokedAt)).toBeGreaterThanOrEqual(Date.parse(before.body.createdAt));
      const listed = await call(server, 'GET', '/api/api-keys?status=revoked&q=laptop%20key', { token: org.owner.session, headers: headers() });
      expect(listed.body.data).toMatchObject([{ id: apiKey.id, revokedReason: reason, revokedAt: after.body.revokedAt }]);
      const [entry] = await auditOf(apiKey.id, 'api_key.revoked');
      expect(entry.details).toMatchObject({ reason });
      expect((await call(server, 'GET', '/api/auth/whoami', { token })).status).toBe(401);
    });

    it('records "revoked" when no reason is given: no body, an empty body, a null or blank reason', async () => {
      for (const body of [undefined, {}, { reason: null }, { reason: '' }, { reason: '   ' }]) {
        const { apiKey } = await org.createKey(org.owner);
        const revoked = await revoke(apiKey.id, body);
        expect(revoked.status, `${JSON.stringify(body)}: ${revoked.text}`).toBe(200);
        expect((await get(apiKey.id)).body.revokedReason).toBe('revoked');
        expect((await auditOf(apiKey.id, 'api_key.revoked'))[0].details.reason).toBe('revoked');
      }
    });

    it('trims the reason, takes 200 characters and refuses 201, a line break, a control character or an unknown field with 422', async () => {
      const kept = await org.createKey(org.owner);
      expect((await revoke(kept.apiKey.id, { reason: `  ${'x'.repeat(200)}\n` })).status).toBe(200);
      expect((await get(kept.apiKey.id)).body.revokedReason).toBe('x'.repeat(200));
      const { apiKey } = await org.createKey(org.owner);
      for (const body of [{ reason: 'x'.repeat(201) }, { reason: 'two\nlines' }, { reason: 'nul\u0000' }, { reason: 42 }, { reason: 'ok', why: 'extra' }]) {
        const refused = await revoke(apiKey.id, body);
        expect(refused.status, JSON.stringify(body)).toBe(422);
        expect(refused.body.error).toBe('validation_failed');
        expect(refused.body.reasons.length).toBeGreaterThan(0);
      }
      expect((await get(apiKey.id)).body).toMatchObject({ status: 'active', revokedReason: null });
      const notJson = await call(server, 'DELETE', `/api/api-keys/${apiKey.id}`, { token: org.owner.session, headers: { ...headers(), 'content-type': 'application/json' }, rawBody: '{"reason":' });
      expect(notJson.status).toBe(400);
      expect(notJson.body.error).toBe('invalid_request');
    });

    it('a second revoke, with or without a reason, is 409 and keeps the first reason', async () => {
      const { apiKey } = await org.createKey(org.owner);
      expect((await revoke(apiKey.id, { reason: 'first' })).status).toBe(200);
      const again = await revoke(apiKey.id, { reason: 'second' });
      expect(again.status).toBe(409);
      expect(again.body.error).toBe('api_key_already_revoked');
      expect((await get(apiKey.id)).body.revokedReason).toBe('first');
    });

    it('a key revoked by a leak report records the reason "leaked"', async () => {
      const { apiKey, token } = await org.createKey(org.owner);
      expect((await call(server, 'POST', '/api/keys/leaked', { body: { key: token, source: 'github-secret-scanning' } })).status).toBe(202);
      expect((await get(apiKey.id)).body).toMatchObject({ status: 'revoked', revokedReason: 'leaked' });
    });

    it('an ordinary roll answers warnings: []', async () => {
      const { apiKey } = await org.createKey(org.owner);
      const rolled = await call(server, 'POST', `/api/api-keys/${apiKey.id}/roll`, { token: org.owner.session, headers: headers(), body: {} });
      expect(rolled.status, rolled.text).toBe(201);
      expect(Object.keys(rolled.body).sort()).toEqual(['apiKey', 'token', 'warnings']);
      expect(rolled.body.warnings).toEqual([]);
      // A roll with an overlap, the first one, ends nothing either.
      const overlapped = await call(server, 'POST', `/api/api-keys/${apiKey.id}/roll`, {
        token: org.owner.session,
        headers: headers(),
        body: { oldKeyExpiresAt: new Date(Date.now() + 3_600_000).toISOString() },
      });
      expect(overlapped.body.warnings).toEqual([]);
    });

    it('a second roll inside the first one\'s overlap ends the older secret at once and says until when it would have worked', async () => {
      const { apiKey, token: first } = await org.createKey(org.owner);
      const until = new Date(Date.now() + 6 * 3_600_000);
      until.setUTCMilliseconds(0);
      const roll = (body: unknown) => call(server, 'POST', `/api/api-keys/${apiKey.id}/roll`, { token: org.owner.session, headers: headers(), body });
      const firstRoll = await roll({ oldKeyExpiresAt: until.toISOString() });
      expect(firstRoll.status).toBe(201);
      expect(firstRoll.body.warnings).toEqual([]);
      expect((await call(server, 'GET', '/api/auth/whoami', { token: first })).status).toBe(200);

      const secondRoll = await roll({ oldKeyExpiresAt: new Date(Date.now() + 3_600_000).toISOString() });
      expect(secondRoll.status, secondRoll.text).toBe(201);
      expect(secondRoll.headers.get('cache-control')).toBe('no-store');
      expect(secondRoll.body.warnings).toEqual([
        { code: 'previous_overlap_ended', message: expect.stringContaining(until.toISOString()), previousSecretExpiresAt: until.toISOString() },
      ]);
      // The first secret stopped at once; the second one keeps its own overlap; the newest works.
      expect((await call(server, 'GET', '/api/auth/whoami', { token: first })).status).toBe(401);
      expect((await call(server, 'GET', '/api/auth/whoami', { token: firstRoll.body.token })).status).toBe(200);
      expect((await call(server, 'GET', '/api/auth/whoami', { token: secondRoll.body.token })).status).toBe(200);
      const [entry] = await auditOf(apiKey.id, 'api_key.rolled');
      expect(entry.details).toMatchObject({ previousOverlapEndedAt: until.toISOString() });

      // Rolling again without an overlap ends the second roll's overlap: warned again.
      const third = await roll({});
      expect(third.body.warnings).toMatchObject([{ code: 'previous_overlap_ended' }]);
      expect((await call(server, 'GET', '/api/auth/whoami', { token: firstRoll.body.token })).status).toBe(401);
      // That roll kept no overlap, so the next one ends nothing.
      expect((await roll({})).body.warnings).toEqual([]);
    });
  });
}
