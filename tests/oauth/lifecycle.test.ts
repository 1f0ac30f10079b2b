import { createVerifier, type OrgId } from '@keyward/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, call, clientIdOf, createOrg, dialects, movableClock, postForm, startOAuthServer, tokenFor, type OrgFixture, type TestServer } from './support.js';

/**
 * The key behind a token decides on every online path: revoking, disabling, or rolling the key with
 * immediate expiry refuses its live tokens at once; an overlap keeps them until it ends (R24, R25).
 * Revocation (RFC 7009) and introspection (RFC 7662) with their disclosure rules (R40, R41).
 */
for (const dialect of await dialects()) {
  describe(`tokens follow their key, and revocation and introspection on ${dialect}`, () => {
    const clock = movableClock();
    let server: TestServer;
    let org: OrgFixture;
    let verifier: string;
    let otherVerifier: string;

    const whoami = (token: string) => call(server, 'GET', '/api/auth/whoami', { token });
    const verify = (key: string) => call(server, 'POST', '/api/keys/verify', { token: verifier, body: { key } });
    const introspect = (token: string, auth: Record<string, string> = { authorization: `Bearer ${verifier}` }, body: Record<string, string> = {}) =>
      postForm(server, '/oauth/introspect', { token, ...body }, auth);

    beforeAll(async () => {
      server = await startOAuthServer({ clock, dialect });
      org = await createOrg(server);
      const other = await createOrg(server);
      verifier = (await createVerifier(server.composed.services.deps, { name: 'gateway', orgId: null })).token;
      otherVerifier = (await createVerifier(server.composed.services.deps, { name: 'elsewhere', orgId: other.orgId as OrgId })).token;
    });
    afterAll(async () => server?.close());

    it('refuses a live token on its next online use once its key is revoked', async () => {
      const member = await org.addMember('MEMBER');
      const { token: key, apiKey } = await org.createKey(member);
      const token = await tokenFor(server, key);
      expect((await whoami(token)).status).toBe(200);
      const live = await verify(token);
      expect(live.body.valid).toBe(true);
      // A token's verdict says when the token stops working (its exp), not the key's expiry (none here).
      const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
      expect(live.body.expiresAt).toBe(new Date(exp * 1000).toISOString());
      expect((await introspect(token)).body.active).toBe(true);
      expect((await call(server, 'DELETE', `/api/api-keys/${apiKey.id}`, { token: member.session })).status).toBe(200);
      expect((await whoami(token)).status).toBe(401);
      expect((await verify(token)).body).toMatchObject({ valid: false, code: 'REVOKED', keyId: apiKey.id });
      expect((await introspect(token)).body).toEqual({ active: false });
      expect((await postForm(server, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(apiKey.id, key) })).status).toBe(401);
    });

    it('refuses the tokens of a personal key whose owner left, and caps them by the owner\'s current role', async () => {
      const member = await org.addMember('MEMBER');
      const { token: key } = await org.createKey(member);
      const token = await tokenFor(server, key);
      expect((await whoami(token)).body.permissions).toContain('traces:write');
      expect((await call(server, 'PATCH', `/api/members/${member.userId}`, { token: org.owner.session, body: { role: 'VIEWER' } })).status).toBe(200);
      const demoted = await whoami(token);
      expect(demoted.status).toBe(200);
      expect(demoted.body.permissions).toContain('traces:read');
      expect(demoted.body.permissions).not.toContain('traces:write');
      expect((await call(server, 'DELETE', `/api/members/${member.userId}`, { token: org.owner.session })).status).toBe(200);
      expect((await whoami(token)).status).toBe(401);
      expect((await verify(token)).body).toMatchObject({ valid: false, code: 'DISABLED' });
    });

    it('ends the tokens of a rolled key at once, or when its overlap ends', async () => {
      const member = await org.addMember('ADMIN');
      const { token: key, apiKey } = await org.createKey(member);
      const before = await tokenFor(server, key);
      const rolled = await call(server, 'POST', `/api/api-keys/${apiKey.id}/roll`, { token: member.session, body: {} });
      expect(rolled.status).toBe(201);
      expect((await whoami(before)).status).toBe(401);
      expect((await verify(before)).body).toMatchObject({ valid: false, code: 'EXPIRED' });
      const fresh = await tokenFor(server, rolled.body.token);
      expect((await whoami(fresh)).status).toBe(200);

      const overlapEnd = new Date(clock.now().getTime() + 300_000);
      const again = await call(server, 'POST', `/api/api-keys/${apiKey.id}/roll`, { token: member.session, body: { oldKeyExpiresAt: overlapEnd.toISOString() } });
      expect(again.status).toBe(201);
      const duringOverlap = await tokenFor(server, rolled.body.token); // issued with the old secret, inside the overlap
      const newest = await tokenFor(server, again.body.token);
      for (const token of [fresh, duringOverlap, newest]) expect((await whoami(token)).status).toBe(200);
      clock.set(overlapEnd.getTime());
      for (const token of [fresh, duringOverlap]) expect((await whoami(token)).status).toBe(401);
      expect((await whoami(newest)).status).toBe(200);
    });

    it('revokes a token for its own client (RFC 7009); unknown tokens answer 200, another client\'s token is refused', async () => {
      const id = clientIdOf(org.adminKey);
      const token = await tokenFor(server, org.adminKey);
      const member = await org.addMember('MEMBER');
      const { token: otherKey } = await org.createKey(member);
      const foreign = await postForm(server, '/oauth/revoke', { token }, { authorization: basic(clientIdOf(otherKey), otherKey) });
      expect(foreign.status).toBe(400);
      expect(foreign.body.error).toBe('invalid_grant');
      expect((await whoami(token)).status).toBe(200);
      expect((await postForm(server, '/oauth/revoke', { token })).status).toBe(401);
      expect((await postForm(server, '/oauth/revoke', {}, { authorization: basic(id, org.adminKey) })).body.error).toBe('invalid_request');

      const revoked = await postForm(server, '/oauth/revoke', { token, token_type_hint: 'refresh_token' }, { authorization: basic(id, org.adminKey) });
      expect(revoked.status).toBe(200);
      expect(revoked.body).toEqual({});
      expect(revoked.headers.get('cache-control')).toBe('no-store');
      expect((await whoami(token)).status).toBe(401);
      expect((await verify(token)).body).toMatchObject({ valid: false, code: 'REVOKED' });
      expect((await introspect(token)).body).toEqual({ active: false });
      for (const unknown of [token, 'garbage', `${token.slice(0, -4)}AAAA`, 'eyJhbGciOiJub25lIn0.e30.']) {
        const answer = await postForm(server, '/oauth/revoke', { token: unknown }, { authorization: basic(id, org.adminKey) });
        expect([answer.status, answer.body]).toEqual([200, {}]);
      }
      const audit = await call(server, 'GET', '/api/audit-log?action=access_token.revoked', { token: org.owner.session });
      expect(audit.body.data[0]).toMatchObject({ action: 'access_token.revoked', actor: { type: 'api_key', id } });
    });

    it('tells a token\'s details only to its own client, an admin key or a verifier; anyone else gets exactly {"active":false} (R41)', async () => {
      const member = await org.addMember('MEMBER');
      const { token: key } = await org.createKey(member);
      const token = await tokenFor(server, key, { scope: 'traces:read' });
      const details = { active: true, client_id: clientIdOf(key), sub: clientIdOf(key), scope: 'traces:read', token_type: 'Bearer', iss: server.url, org_id: org.orgId };
      expect((await introspect(token, { authorization: basic(clientIdOf(key), key) })).body).toMatchObject(details);
      expect((await introspect(token, {}, { client_id: clientIdOf(key), client_secret: key })).body).toMatchObject(details);
      expect((await introspect(token, { authorization: `Bearer ${org.adminKey}` })).body).toMatchObject(details);
      expect((await introspect(token, { authorization: basic(clientIdOf(org.adminKey), org.adminKey) })).body).toMatchObject(details);
      expect((await introspect(token)).body).toMatchObject(details);
      const answer = await introspect(token);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.body.exp - answer.body.iat).toBe(600);

      const { token: bystander } = await org.createKey(member);
      expect((await introspect(token, { authorization: basic(clientIdOf(bystander), bystander) })).body).toEqual({ active: false });
      expect((await introspect(token, { authorization: `Bearer ${otherVerifier}` })).body).toEqual({ active: false });
      expect((await introspect('not-a-token')).body).toEqual({ active: false });
      const unauthenticated = await introspect(token, {});
      expect(unauthenticated.status).toBe(401);
      expect(unauthenticated.body.error).toBe('invalid_client');
      expect((await introspect(token, { authorization: 'Bearer kwv_AAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).status).toBe(401);
      expect((await postForm(server, '/oauth/introspect', {}, { authorization: `Bearer ${verifier}` })).body.error).toBe('invalid_request');
    });

    it('counts the uses of a token under its key', async () => {
      const { token: key, apiKey } = await org.createKey(org.owner);
      const token = await tokenFor(server, key);
      for (let i = 0; i < 3; i++) expect((await whoami(token)).status).toBe(200);
      await server.composed.services.usage.flush();
      const usage = await call(server, 'GET', `/api/api-keys/${apiKey.id}/usage?interval=day`, { token: org.owner.session });
      expect(usage.status).toBe(200);
      const valid = usage.body.buckets.reduce((sum: number, b: any) => sum + b.valid, 0);
      expect(valid).toBe(4); // one token request and three uses
      const listed = await call(server, 'GET', `/api/api-keys/${apiKey.id}`, { token: org.owner.session });
      expect(listed.body.lastUsedAt).not.toBeNull();
    });
  });
}
