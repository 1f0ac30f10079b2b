import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

/**
 * An invitation to someone who already has an account asks for that account's password. Held by the
 * inviting admin, its token must not become a password oracle: wrong passwords count toward the
 * per-address failure limit, and five of them void the invitation (CONTRACT.md, "Rights over keys
 * (clarified)"). @see issue 10, item 3.
 */
for (const dialect of await dialects()) {
  describe(`accepting an invitation to an existing account on ${dialect}`, () => {
    let server: TestServer;
    let attacker: OrgFixture;
    let victimCounter = 0;
    // Each test speaks from its own address, so that failures counted in one never limit another.
    const from = () => ({ 'x-forwarded-for': `198.51.100.${++victimCounter}` });

    beforeAll(async () => {
      server = await startServer({ dialect, env: { KEYWARD_AUTH_FAILURES_PER_MINUTE: '1000', KEYWARD_TRUSTED_PROXIES: '127.0.0.1/32' } });
      attacker = await createOrg(server);
    });
    afterAll(async () => server?.close());

    /** The owner of a fresh organization, invited into the attacker's organization by its admin. */
    async function inviteAnotherOrgsOwner() {
      const victim = await createOrg(server);
      const invited = await call(server, 'POST', '/api/members', { token: attacker.owner.session, body: { email: victim.owner.email, role: 'VIEWER' } });
      expect(invited.status).toBe(201);
      return { victim, token: invited.body.invitation.token as string, userId: invited.body.member.userId as string };
    }

    const accept = (token: string, password: string, headers: Record<string, string>) =>
      call(server, 'POST', '/api/invitations/accept', { body: { token, password }, headers });

    it('voids the invitation after 5 wrong passwords: the right one then finds 404 invitation_not_found, and nobody joined', async () => {
      const { victim, token, userId } = await inviteAnotherOrgsOwner();
      const headers = from();
      for (let i = 1; i <= 5; i++) {
        const wrong = await accept(token, `guess-${i}-wrong`, headers);
        expect(wrong.status, `guess ${i}`).toBe(401);
        expect(wrong.body.error).toBe('invalid_credentials');
      }
      for (const password of [victim.owner.password, 'guess-6-wrong', victim.owner.password]) {
        const refused = await accept(token, password, headers);
        expect(refused.status).toBe(404);
        expect(refused.body.error).toBe('invitation_not_found');
      }
      const refusedElsewhere = await accept(token, victim.owner.password, from());
      expect(refusedElsewhere.status).toBe(404);

      const members = await call(server, 'GET', '/api/members', { token: attacker.owner.session });
      expect(members.body.data.find((m: any) => m.userId === userId)).toMatchObject({ status: 'invited' });
      const login = await call(server, 'POST', '/api/auth/login', { body: { email: victim.owner.email, password: victim.owner.password }, headers: from() });
      expect(login.status).toBe(200);
      expect(login.body.organizations.map((o: any) => o.id)).toEqual([victim.orgId]);
    });

    it('accepts the right password after 4 wrong ones', async () => {
      const { victim, token, userId } = await inviteAnotherOrgsOwner();
      const headers = from();
      for (let i = 1; i <= 4; i++) expect((await accept(token, `wrong-${i}`, headers)).status).toBe(401);
      const accepted = await accept(token, victim.owner.password, headers);
      expect(accepted.status).toBe(200);
      expect(accepted.body).toEqual({ user: { id: userId, email: victim.owner.email }, organizationId: attacker.orgId });
      expect((await accept(token, victim.owner.password, headers)).status).toBe(404);
    });

    it('never checks more than 5 passwords for concurrent guesses, however they interleave', async () => {
      for (let round = 0; round < 3; round++) {
        const { victim, token } = await inviteAnotherOrgsOwner();
        const headers = from();
        const guesses = Array.from({ length: 24 }, (_, i) => (i === 12 + round ? victim.owner.password : `parallel-${round}-${i}`));
        const answers = await Promise.all(guesses.map((password) => accept(token, password, headers)));
        const statuses = answers.map((a) => a.status);
        // A password was checked exactly when the answer is 401 (wrong) or 200 (right).
        expect(statuses.filter((s) => s === 401 || s === 200).length, statuses.join(' ')).toBeLessThanOrEqual(5);
        expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(1);
        expect(statuses.every((s) => [200, 401, 404].includes(s)), statuses.join(' ')).toBe(true);
        if (!statuses.includes(200)) expect((await accept(token, victim.owner.password, headers)).status).toBe(404);
      }
    });

    it('audits each wrong password in the inviting organization, with the address it came from', async () => {
      const { token, userId } = await inviteAnotherOrgsOwner();
      await accept(token, 'first-wrong', { 'x-forwarded-for': '203.0.113.77' });
      await accept(token, 'second-wrong', { 'x-forwarded-for': '203.0.113.77' });
      const log = await call(server, 'GET', `/api/audit-log?action=member.join_failed&targetId=${userId}`, { token: attacker.owner.session });
      expect(log.status).toBe(200);
      expect(log.body.data).toHaveLength(2);
      expect(log.body.data[0]).toMatchObject({
        outcome: 'failure',
        ip: '203.0.113.77',
        targetType: 'user',
        targetId: userId,
        details: { reason: 'wrong_password', attemptsLeft: 3 },
      });
      expect(log.text).not.toContain('second-wrong');
    });

    it('spends nothing on an invitation to a new person: a refused password is 422 and the invitation still works', async () => {
      const email = `new-${Date.now()}-${victimCounter}@example.test`;
      const invited = await call(server, 'POST', '/api/members', { token: attacker.owner.session, body: { email, role: 'MEMBER' } });
      const headers = from();
      for (let i = 0; i < 6; i++) expect((await accept(invited.body.invitation.token, 'short', headers)).status).toBe(422);
      const accepted = await accept(invited.body.invitation.token, 'a long enough password', headers);
      expect(accepted.status).toBe(200);
    });
  });
}

describe('failed invitation accepts and the per-address failure limit', () => {
  let server: TestServer;
  let org: OrgFixture;

  beforeAll(async () => {
    server = await startServer({ env: { KEYWARD_AUTH_FAILURES_PER_MINUTE: '3', KEYWARD_TRUSTED_PROXIES: '127.0.0.1/32' } });
    org = await createOrg(server);
  });
  afterAll(async () => server?.close());

  it('counts wrong passwords and unknown tokens toward KEYWARD_AUTH_FAILURES_PER_MINUTE, then answers 429 with Retry-After, login included; other addresses go on', async () => {
    const victim = await createOrg(server);
    const invited = await call(server, 'POST', '/api/members', { token: org.owner.session, body: { email: victim.owner.email, role: 'VIEWER' } });
    const token = invited.body.invitation.token as string;
    const x = { 'x-forwarded-for': '192.0.2.10' };
    const y = { 'x-forwarded-for': '192.0.2.20' };
    const accept = (password: string, headers: Record<string, string>, t = token) =>
      call(server, 'POST', '/api/invitations/accept', { body: { token: t, password }, headers });

    expect((await accept('wrong-1', x)).status).toBe(401);
    expect((await accept('wrong-2', x)).status).toBe(401);
    expect((await accept('whatever', x, `kwi_${'A'.repeat(43)}`)).status).toBe(404);
    const limited = await accept(victim.owner.password, x);
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const login = await call(server, 'POST', '/api/auth/login', { body: { email: victim.owner.email, password: victim.owner.password }, headers: x });
    expect(login.status).toBe(429);

    // The 429s spent no attempt: from another address, the right password still accepts.
    const accepted = await accept(victim.owner.password, y);
    expect(accepted.status).toBe(200);
    expect(accepted.body.organizationId).toBe(org.orgId);
  });

  it('does not count successful accepts', async () => {
    const headers = { 'x-forwarded-for': '192.0.2.30' };
    for (let i = 0; i < 5; i++) {
      const invited = await call(server, 'POST', '/api/members', { token: org.owner.session, body: { email: `ok-${i}-${Date.now()}@example.test`, role: 'VIEWER' } });
      const accepted = await call(server, 'POST', '/api/invitations/accept', { body: { token: invited.body.invitation.token, password: 'a long enough password' }, headers });
      expect(accepted.status).toBe(200);
    }
  });
});
