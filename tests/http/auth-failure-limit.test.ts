import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

/**
 * SECURITY.md R45: failed authentications are limited per source address (429 + Retry-After),
 * successes are not counted, and nobody can lock a key or a person out from another address.
 * Test as R45 states it: 200 bad attempts from address X → 429 after the threshold; a valid
 * credential from address Y is unaffected.
 */
const THRESHOLD = 20;

for (const dialect of await dialects()) {
  describe(`failed authentication per client address (R45) on ${dialect}`, () => {
    let server: TestServer;
    let org: OrgFixture;
    let key: string;

    beforeAll(async () => {
      server = await startServer({ dialect, env: { KEYWARD_AUTH_FAILURES_PER_MINUTE: String(THRESHOLD), KEYWARD_TRUSTED_PROXIES: '127.0.0.1/32' } });
      org = await createOrg(server);
      key = (await org.createKey(org.owner)).token;
    });
    afterAll(async () => server?.close());

    const from = (address: string) => ({ 'x-forwarded-for': address });

    it('answers 429 with Retry-After to 200 bad attempts from X once past the threshold, while a valid key and login from Y go through', async () => {
      const x = from('203.0.113.10');
      const y = from('203.0.113.20');
      const mistyped = `${key.slice(0, -6)}${key.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;
      // Every kind of credential a guesser may try: a key, a session token, a password, an invitation.
      const attempts = [
        () => call(server, 'GET', '/api/auth/whoami', { token: mistyped, headers: x }),
        () => call(server, 'GET', '/api/auth/whoami', { token: `kws_${randomBytes(24).toString('hex')}`, headers: x }),
        () => call(server, 'POST', '/api/auth/login', { body: { email: org.owner.email, password: `not-${org.owner.password}` }, headers: x }),
        () => call(server, 'POST', '/api/invitations/accept', { body: { token: `kwi_${randomBytes(20).toString('hex')}`, password: 'whatever-it-is' }, headers: x }),
      ];
      const answers = [];
      for (let i = 0; i < 200; i++) answers.push(await attempts[i % attempts.length]!());
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.slice(0, THRESHOLD).every((s) => s === 401 || s === 404), statuses.slice(0, THRESHOLD).join(' ')).toBe(true);
      expect(statuses.slice(THRESHOLD).every((s) => s === 429), statuses.slice(THRESHOLD).join(' ')).toBe(true);
      for (const limited of answers.slice(THRESHOLD)) {
        expect(limited.body.error).toBe('rate_limited');
        const retryAfter = Number(limited.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(60);
      }

      // The key and the person are not locked out: from Y, both work.
      expect((await call(server, 'GET', '/api/auth/whoami', { token: key, headers: y })).status).toBe(200);
      const login = await call(server, 'POST', '/api/auth/login', { body: { email: org.owner.email, password: org.owner.password }, headers: y });
      expect(login.status).toBe(200);
      expect((await call(server, 'GET', '/api/auth/whoami', { token: login.body.sessionToken, headers: y })).status).toBe(200);
      // From X, even the right credentials wait: no guessing past the limit.
      expect((await call(server, 'GET', '/api/auth/whoami', { token: key, headers: x })).status).toBe(429);
    });

    it('does not count successes: many good requests, then fewer failures than the threshold, still go through', async () => {
      const z = from('203.0.113.30');
      for (let i = 0; i < 3 * THRESHOLD; i++) expect((await call(server, 'GET', '/api/auth/whoami', { token: key, headers: z })).status).toBe(200);
      for (let i = 0; i < THRESHOLD - 1; i++) expect((await call(server, 'GET', '/api/auth/whoami', { token: 'kw_wrong', headers: z })).status).toBe(401);
      expect((await call(server, 'GET', '/api/auth/whoami', { token: key, headers: z })).status).toBe(200);
      expect((await call(server, 'GET', '/api/auth/whoami', { token: 'kw_wrong', headers: z })).status).toBe(401);
      expect((await call(server, 'GET', '/api/auth/whoami', { token: key, headers: z })).status).toBe(429);
    });
  });
}
