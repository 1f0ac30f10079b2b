import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuePasswordReset, type Clock } from '@keyward/core';
import { call, createOrg, startServer, type OrgFixture, type Person, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

/**
 * CONTRACT.md "Console accounts": a signed-in person changes their password with `POST
 * /api/auth/change-password` (a session only; 204; a wrong current password is 401
 * `invalid_credentials` and a failed authentication; a weak new one 422; their other sessions end,
 * the calling one stays), and an operator's one-time reset link (`keyward admin reset-password`, here
 * issued through the same core function) sets a password with `POST /api/auth/reset-password` (204;
 * every session of the person ends; used, expired or unknown: 404 `reset_token_invalid`).
 */
const LIMIT = 5;

/** The server's clock, which a test may move forward. */
function movableClock(): Clock & { offsetMs: number } {
  return {
    offsetMs: 0,
    now() {
      return new Date(Date.now() + this.offsetMs);
    },
  };
}

for (const dialect of await dialects()) {
  describe(`changing and resetting a password on ${dialect}`, () => {
    let server: TestServer;
    let org: OrgFixture;
    const clock = movableClock();
    let addressCounter = 0;
    // Each test speaks from addresses of its own, so that failures counted in one never limit another.
    const newAddress = () => ({ 'x-forwarded-for': `198.51.100.${++addressCounter}` });

    beforeAll(async () => {
      server = await startServer({ dialect, clock, env: { KEYWARD_AUTH_FAILURES_PER_MINUTE: String(LIMIT), KEYWARD_TRUSTED_PROXIES: '127.0.0.1/32' } });
      org = await createOrg(server);
    });
    afterAll(async () => server?.close());

    const login = (email: string, password: string, headers = newAddress()) => call(server, 'POST', '/api/auth/login', { body: { email, password }, headers });
    const whoami = (token: string) => call(server, 'GET', '/api/auth/whoami', { token, headers: newAddress() });
    const change = (token: string | undefined, body: unknown, headers: Record<string, string> = newAddress()) =>
      call(server, 'POST', '/api/auth/change-password', { token, body, headers });
    const reset = (body: unknown, headers: Record<string, string> = newAddress()) => call(server, 'POST', '/api/auth/reset-password', { body, headers });
    const newPassword = () => `new-password-${randomBytes(6).toString('hex')}`;
    const issue = (email: string) => issuePasswordReset(server.composed.services.deps, email);
    /** A person of the organization with `n` sessions of their own (the first is `person.session`). */
    async function personWithSessions(n: number): Promise<{ person: Person; sessions: string[] }> {
      const person = await org.addMember('MEMBER');
      const sessions = [person.session];
      for (let i = 1; i < n; i++) sessions.push((await login(person.email, person.password)).body.sessionToken);
      return { person, sessions };
    }
    const auditOf = async (action: string, targetId: string) =>
      (await call(server, 'GET', `/api/audit-log?action=${action}&targetId=${targetId}`, { token: org.adminKey })).body.data as any[];

    describe('POST /api/auth/change-password', () => {
      it('answers 204 with no body; the new password logs in and the old one no longer does; the calling session stays, every other session of the person ends, and nobody else is signed out', async () => {
        const { person, sessions } = await personWithSessions(3);
        const bystander = await org.addMember('MEMBER');
        const password = newPassword();
        const from = newAddress();
        const changed = await change(sessions[0], { currentPassword: person.password, newPassword: password }, from);
        expect(changed.status, changed.text).toBe(204);
        expect(changed.text).toBe('');

        expect((await whoami(sessions[0]!)).status).toBe(200);
        expect((await whoami(sessions[1]!)).status).toBe(401);
        expect((await whoami(sessions[2]!)).status).toBe(401);
        expect((await whoami(bystander.session)).status).toBe(200);
        expect((await whoami(org.owner.session)).status).toBe(200);

        expect((await login(person.email, person.password)).status).toBe(401);
        const relogin = await login(person.email, password);
        expect(relogin.status).toBe(200);
        expect((await whoami(relogin.body.sessionToken)).status).toBe(200);

        const [entry, ...more] = await auditOf('auth.password_changed', person.userId);
        expect(more).toEqual([]);
        expect(entry).toMatchObject({ actor: { type: 'user', id: person.userId }, targetType: 'user', outcome: 'success', ip: from['x-forwarded-for'], details: { sessionsEnded: 2 } });
        expect(JSON.stringify(entry)).not.toContain(password);
      });

      it('refuses a wrong current password with 401 invalid_credentials, changes nothing, counts it toward the per-address limit (429 with Retry-After past it, even with the right password) and audits it once a minute', async () => {
        const { person, sessions } = await personWithSessions(2);
        const from = newAddress();
        for (let i = 0; i < LIMIT; i++) {
          const wrong = await change(sessions[0], { currentPassword: `wrong-${i}-${person.password}`, newPassword: newPassword() }, from);
          expect(wrong.status, `attempt ${i + 1}`).toBe(401);
          expect(wrong.body).toMatchObject({ error: 'invalid_credentials', message: 'The current password is not correct.' });
        }
        const limited = await change(sessions[0], { currentPassword: person.password, newPassword: newPassword() }, from);
        expect(limited.status).toBe(429);
        expect(limited.body.error).toBe('rate_limited');
        expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

        // Nothing changed: both sessions live, the old password still logs in.
        expect((await whoami(sessions[0]!)).status).toBe(200);
        expect((await whoami(sessions[1]!)).status).toBe(200);
        expect((await login(person.email, person.password)).status).toBe(200);

        const failures = await auditOf('auth.password_change_failed', person.userId);
        expect(failures).toHaveLength(1);
        expect(failures[0]).toMatchObject({ actor: { type: 'user', id: person.userId }, outcome: 'failure', ip: from['x-forwarded-for'] });
        expect(await auditOf('auth.password_changed', person.userId)).toEqual([]);

        // From another address the right password goes through.
        expect((await change(sessions[0], { currentPassword: person.password, newPassword: newPassword() })).status).toBe(204);
      });

      it('refuses a weak new password with 422 validation_failed naming newPassword, without checking or counting the current one, and changes nothing', async () => {
        const { person, sessions } = await personWithSessions(2);
        const from = newAddress();
        for (let i = 0; i < LIMIT + 2; i++) {
          const weak = await change(sessions[0], { currentPassword: person.password, newPassword: 'short' }, from);
          expect(weak.status).toBe(422);
          expect(weak.body).toMatchObject({ error: 'validation_failed', reasons: [{ path: 'newPassword', message: expect.stringContaining('8 characters') }] });
        }
        const missing = await change(sessions[0], { currentPassword: person.password }, from);
        expect(missing.status).toBe(422);
        expect(missing.body.reasons).toEqual([expect.objectContaining({ path: 'newPassword' })]);
        const extra = await change(sessions[0], { currentPassword: person.password, newPassword: newPassword(), email: 'x@example.test' }, from);
        expect(extra.status).toBe(422);
        expect((await whoami(sessions[1]!)).status).toBe(200);
        expect((await login(person.email, person.password)).status).toBe(200);
      });

      it('takes a session only: no credential, an API key or a bad session is 401; the console cookie needs X-Keyward-Console', async () => {
        const { person, sessions } = await personWithSessions(1);
        const body = { currentPassword: person.password, newPassword: newPassword() };
        expect((await change(undefined, body)).status).toBe(401);
        const key = (await org.createKey(person)).token;
        const withKey = await change(key, body);
        expect(withKey.status).toBe(401);
        expect(withKey.body.error).toBe('unauthorized');
        expect((await change(`kws_${randomBytes(16).toString('hex')}`, body)).status).toBe(401);
        expect((await call(server, 'POST', '/api/auth/change-password', { body, headers: { ...newAddress(), cookie: `keyward_session=${sessions[0]}` } })).status).toBe(403);
        expect((await login(person.email, person.password)).status).toBe(200);
        const viaConsole = await call(server, 'POST', '/api/auth/change-password', {
          body,
          headers: { ...newAddress(), cookie: `keyward_session=${sessions[0]}`, 'x-keyward-console': '1' },
        });
        expect(viaConsole.status).toBe(204);
        expect((await login(person.email, body.newPassword)).status).toBe(200);
      });
    });

    describe('POST /api/auth/reset-password', () => {
      it('sets the password with a link once: 204, every session of the person ends, the new password logs in, and the token is 404 reset_token_invalid from then on', async () => {
        const { person, sessions } = await personWithSessions(2);
        const issued = await issue(person.email.toUpperCase());
        expect(issued.token).toMatch(/^kwr_[0-9A-Za-z]{43}$/);
        expect(issued.expiresAt.getTime() - clock.now().getTime()).toBeGreaterThan(3590_000);
        expect(issued.expiresAt.getTime() - clock.now().getTime()).toBeLessThanOrEqual(3600_000);
        const password = newPassword();
        const done = await reset({ token: issued.token, password });
        expect(done.status, done.text).toBe(204);
        expect(done.text).toBe('');
        for (const session of sessions) expect((await whoami(session)).status).toBe(401);
        expect((await login(person.email, person.password)).status).toBe(401);
        expect((await login(person.email, password)).status).toBe(200);

        for (const again of [password, newPassword()]) {
          const used = await reset({ token: issued.token, password: again });
          expect(used.status).toBe(404);
          expect(used.body).toMatchObject({ error: 'reset_token_invalid' });
        }
        expect((await login(person.email, password)).status).toBe(200);

        const [issuedEntry] = await auditOf('auth.password_reset_issued', person.userId);
        expect(issuedEntry).toMatchObject({ actor: { type: 'system', id: 'operator' }, targetId: person.userId, details: { expiresAt: issued.expiresAt.toISOString() } });
        const [resetEntry, ...more] = await auditOf('auth.password_reset', person.userId);
        expect(more).toEqual([]);
        expect(resetEntry).toMatchObject({ actor: { type: 'user', id: person.userId }, outcome: 'success', details: { sessionsEnded: 2 } });
        expect(JSON.stringify([issuedEntry, resetEntry])).not.toContain(issued.token);
      });

      it('refuses a weak password with 422 and leaves the token usable', async () => {
        const { person } = await personWithSessions(1);
        const { token } = await issue(person.email);
        const weak = await reset({ token, password: 'short' });
        expect(weak.status).toBe(422);
        expect(weak.body).toMatchObject({ error: 'validation_failed', reasons: [{ path: 'password' }] });
        expect((await login(person.email, person.password)).status).toBe(200);
        const password = newPassword();
        expect((await reset({ token, password })).status).toBe(204);
        expect((await login(person.email, password)).status).toBe(200);
      });

      it('works for an hour and no longer: at 59 min 59 s the token still holds, at 60 min it is 404 reset_token_invalid', async () => {
        const { person } = await personWithSessions(1);
        const { token } = await issue(person.email);
        try {
          clock.offsetMs = 3599_000;
          // A weak password tells a live token (422) from a dead one (404) without spending it.
          expect((await reset({ token, password: 'short' })).status).toBe(422);
          clock.offsetMs = 3600_000;
          const expired = await reset({ token, password: newPassword() });
          expect(expired.status).toBe(404);
          expect(expired.body.error).toBe('reset_token_invalid');
        } finally {
          clock.offsetMs = 0;
        }
        expect((await login(person.email, person.password)).status).toBe(200);
      });

      it('honours only the latest link: a new link voids the earlier one, and so does a password change', async () => {
        const { person, sessions } = await personWithSessions(1);
        const first = await issue(person.email);
        const second = await issue(person.email);
        expect((await reset({ token: first.token, password: newPassword() })).status).toBe(404);
        const changedTo = newPassword();
        expect((await change(sessions[0], { currentPassword: person.password, newPassword: changedTo })).status).toBe(204);
        const voided = await reset({ token: second.token, password: newPassword() });
        expect(voided.status).toBe(404);
        expect(voided.body.error).toBe('reset_token_invalid');
        expect((await login(person.email, changedTo)).status).toBe(200);
      });

      it('answers unknown and malformed tokens 404 reset_token_invalid and counts them per address: past the limit 429, even for a good token, which still works from elsewhere', async () => {
        const { person } = await personWithSessions(1);
        const { token } = await issue(person.email);
        const from = newAddress();
        const guesses = [`kwr_${randomBytes(32).toString('base64url').replace(/[^0-9A-Za-z]/g, 'x').slice(0, 43)}`, 'kwr_short', `${token.slice(0, -1)}${token.endsWith('a') ? 'b' : 'a'}`, 'not-a-token', token.slice(4)];
        expect(guesses).toHaveLength(LIMIT);
        for (const guess of guesses) {
          const refused = await reset({ token: guess, password: newPassword() }, from);
          expect(refused.status, guess).toBe(404);
          expect(refused.body).toMatchObject({ error: 'reset_token_invalid', message: expect.stringContaining('not valid') });
        }
        const limited = await reset({ token, password: newPassword() }, from);
        expect(limited.status).toBe(429);
        expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
        const password = newPassword();
        expect((await reset({ token, password })).status).toBe(204);
        expect((await login(person.email, password)).status).toBe(200);
      });

      it('refuses a body that is not {token, password} with 422, and takes no credential (one given changes nothing)', async () => {
        const { person } = await personWithSessions(1);
        expect((await reset({ token: 'kwr_x' })).status).toBe(422);
        expect((await reset({ token: 'kwr_x', password: newPassword(), email: person.email })).status).toBe(422);
        const { token } = await issue(person.email);
        const password = newPassword();
        const withKey = await call(server, 'POST', '/api/auth/reset-password', { token: org.adminKey, body: { token, password }, headers: newAddress() });
        expect(withKey.status).toBe(204);
        expect((await login(person.email, password)).status).toBe(200);
      });

      it('never writes a reset token or a password to the log', async () => {
        const { person } = await personWithSessions(1);
        const { token } = await issue(person.email);
        const password = newPassword();
        expect((await reset({ token, password })).status).toBe(204);
        const logs = server.logs.join('\n');
        expect(logs).not.toContain(token);
        expect(logs).not.toContain(password);
      });
    });
  });
}
