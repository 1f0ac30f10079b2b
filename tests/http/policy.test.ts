import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type Person, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

/**
 * Organization policy (CONTRACT.md "Organization policy", issue 15): any member reads it, only an
 * OWNER replaces it (audited with before and after); keys created, edited and rolled are held to it
 * with 422 `policy_violation` and per-field reasons; a default lifetime is given with a warning;
 * existing keys are not changed but list the rules they break in `policyViolations`.
 * @see issue 15
 */
const DAY = 86_400_000;
const days = (n: number) => new Date(Date.now() + n * DAY).toISOString();
interface Policy {
  maxKeyLifetimeDays: number | null;
  defaultKeyLifetimeDays: number | null;
  requireExpiry: boolean;
  requireAllowedCidrsForServiceKeys: boolean;
  personalKeysAllowed: boolean;
}
const open: Policy = { maxKeyLifetimeDays: null, defaultKeyLifetimeDays: null, requireExpiry: false, requireAllowedCidrsForServiceKeys: false, personalKeysAllowed: true };

for (const dialect of await dialects()) {
  describe(`organization policy on ${dialect}`, () => {
    let server: TestServer;
    let org: OrgFixture;
    let admin: Person;
    let member: Person;
    let viewer: Person;
    const headers = () => ({ 'x-organization-id': org.orgId });
    const as = (who: Person | string) => (typeof who === 'string' ? who : who.session);
    const getPolicy = (who: Person | string = org.owner) => call(server, 'GET', '/api/organization/policy', { token: as(who), headers: headers() });
    const putPolicy = (body: unknown, who: Person | string = org.owner) => call(server, 'PUT', '/api/organization/policy', { token: as(who), headers: headers(), body });
    const setPolicy = async (changes: Partial<Policy>) => {
      const answer = await putPolicy({ ...open, ...changes });
      expect(answer.status, answer.text).toBe(200);
      return answer.body.policy;
    };
    const create = (body: Record<string, unknown>, who: Person | string = org.owner) =>
      call(server, 'POST', '/api/api-keys', { token: as(who), headers: headers(), body: { name: `policy key ${randomUUID()}`, ...body } });
    const patch = (id: string, body: Record<string, unknown>) => call(server, 'PATCH', `/api/api-keys/${id}`, { token: org.owner.session, headers: headers(), body });
    const roll = (id: string) => call(server, 'POST', `/api/api-keys/${id}/roll`, { token: org.owner.session, headers: headers(), body: {} });
    const get = (id: string) => call(server, 'GET', `/api/api-keys/${id}`, { token: org.owner.session, headers: headers() });
    const expectViolation = (answer: { status: number; body: any; text: string }, paths: string[]) => {
      expect(answer.status, answer.text).toBe(422);
      expect(answer.body.error).toBe('policy_violation');
      expect(answer.body.reasons.map((r: { path: string }) => r.path)).toEqual(paths);
      for (const reason of answer.body.reasons) expect(reason.message.length).toBeGreaterThan(10);
    };

    beforeAll(async () => {
      server = await startServer({ dialect });
      org = await createOrg(server);
      admin = await org.addMember('ADMIN');
      member = await org.addMember('MEMBER');
      viewer = await org.addMember('VIEWER');
    });
    afterAll(async () => server?.close());

    it('has the documented defaults, readable by every member and by an admin key', async () => {
      for (const who of [org.owner, admin, member, viewer, org.adminKey]) {
        const answer = await getPolicy(who);
        expect(answer.status, answer.text).toBe(200);
        expect(answer.body).toEqual({ policy: open });
      }
      expect((await call(server, 'GET', '/api/organization/policy')).status).toBe(401);
    });

    it('lets only the OWNER replace it: ADMIN, MEMBER, VIEWER and an admin key get 403 and change nothing', async () => {
      const wanted = { ...open, requireExpiry: true };
      for (const who of [admin, member, viewer, org.adminKey]) {
        const refused = await putPolicy(wanted, who);
        expect(refused.status, refused.text).toBe(403);
        expect(refused.body.error).toBe('insufficient_permissions');
      }
      expect((await getPolicy()).body.policy).toEqual(open);
    });

    it('stores the whole policy and audits the change with the policy before and after', async () => {
      const wanted = { maxKeyLifetimeDays: 365, defaultKeyLifetimeDays: 90, requireExpiry: true, requireAllowedCidrsForServiceKeys: true, personalKeysAllowed: false };
      const answer = await putPolicy(wanted);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toEqual({ policy: wanted });
      expect((await getPolicy(viewer)).body).toEqual({ policy: wanted });
      const audit = await call(server, 'GET', '/api/audit-log?action=organization.policy_updated', { token: org.owner.session, headers: headers() });
      expect(audit.status).toBe(200);
      const [entry] = audit.body.data;
      expect(entry).toMatchObject({ action: 'organization.policy_updated', targetType: 'organization', targetId: org.orgId, actor: { type: 'user', id: org.owner.userId } });
      expect(entry.details).toEqual({ before: open, after: wanted });
      await setPolicy({});
      expect((await getPolicy()).body.policy).toEqual(open);
    });

    it('refuses bad policies with 422 validation_failed and per-field reasons, never a 5xx', async () => {
      const bad: [unknown, string][] = [
        [{ ...open, maxKeyLifetimeDays: 1.5 }, 'maxKeyLifetimeDays'],
        [{ ...open, maxKeyLifetimeDays: 0 }, 'maxKeyLifetimeDays'],
        [{ ...open, maxKeyLifetimeDays: -3 }, 'maxKeyLifetimeDays'],
        [{ ...open, maxKeyLifetimeDays: 3651 }, 'maxKeyLifetimeDays'],
        [{ ...open, maxKeyLifetimeDays: '30' }, 'maxKeyLifetimeDays'],
        [{ ...open, defaultKeyLifetimeDays: 1e9 }, 'defaultKeyLifetimeDays'],
        [{ ...open, maxKeyLifetimeDays: 30, defaultKeyLifetimeDays: 31 }, 'defaultKeyLifetimeDays'],
        [{ ...open, requireExpiry: 'yes' }, 'requireExpiry'],
        [{ ...open, personalKeysAllowed: null }, 'personalKeysAllowed'],
        [{ maxKeyLifetimeDays: 30 }, 'defaultKeyLifetimeDays'],
        [{ ...open, maxLifetime: 30 }, 'body'],
      ];
      for (const [body, path] of bad) {
        const refused = await putPolicy(body);
        expect(refused.status, `${JSON.stringify(body)}: ${refused.text}`).toBe(422);
        expect(refused.body.error).toBe('validation_failed');
        expect(refused.body.reasons.map((r: { path: string }) => r.path)).toContain(path);
      }
      for (const rawBody of ['{"maxKeyLifetimeDays":', '[]', 'null']) {
        const refused = await call(server, 'PUT', '/api/organization/policy', { token: org.owner.session, headers: { ...headers(), 'content-type': 'application/json' }, rawBody });
        expect(refused.status, rawBody).toBeGreaterThanOrEqual(400);
        expect(refused.status, rawBody).toBeLessThan(500);
      }
      expect((await getPolicy()).body.policy).toEqual(open);
      // The equal default and maximum are allowed.
      await setPolicy({ maxKeyLifetimeDays: 30, defaultKeyLifetimeDays: 30 });
      await setPolicy({});
    });

    describe('on create', () => {
      afterAll(async () => setPolicy({}));

      it('refuses an expiresAt beyond the maximum lifetime, and a key that would never expire under one', async () => {
        await setPolicy({ maxKeyLifetimeDays: 30 });
        expectViolation(await create({ expiresAt: days(31) }), ['expiresAt']);
        expectViolation(await create({}), ['expiresAt']);
        expectViolation(await create({ expiresAt: null }), ['expiresAt']);
        const within = await create({ expiresAt: days(29) });
        expect(within.status, within.text).toBe(201);
        expect(within.body.apiKey.policyViolations).toEqual([]);
      });

      it('gives a key created without expiresAt the default lifetime, with the warning expiry_set_by_policy', async () => {
        await setPolicy({ maxKeyLifetimeDays: 30, defaultKeyLifetimeDays: 7, requireExpiry: true });
        const before = Date.now();
        const created = await create({});
        expect(created.status, created.text).toBe(201);
        const expiresAt = Date.parse(created.body.apiKey.expiresAt);
        expect(expiresAt).toBeGreaterThanOrEqual(before + 7 * DAY - 1000);
        expect(expiresAt).toBeLessThanOrEqual(Date.now() + 7 * DAY + 1000);
        expect(created.body.warnings.map((w: { code: string }) => w.code)).toContain('expiry_set_by_policy');
        // A given expiry is kept, without the warning.
        const given = await create({ expiresAt: days(3) });
        expect(given.status).toBe(201);
        expect(Math.abs(Date.parse(given.body.apiKey.expiresAt) - Date.parse(days(3)))).toBeLessThan(5000);
        expect(given.body.warnings.map((w: { code: string }) => w.code)).not.toContain('expiry_set_by_policy');
        // The default applies without requireExpiry too.
        await setPolicy({ defaultKeyLifetimeDays: 2 });
        const defaulted = await create({});
        expect(defaulted.status).toBe(201);
        expect(Math.abs(Date.parse(defaulted.body.apiKey.expiresAt) - (Date.now() + 2 * DAY))).toBeLessThan(5000);
      });

      it('refuses a key without an expiry under requireExpiry when there is no default', async () => {
        await setPolicy({ requireExpiry: true });
        expectViolation(await create({}), ['expiresAt']);
        expectViolation(await create({ keyType: 'service', expiresAt: null }), ['expiresAt']);
        expect((await create({ expiresAt: days(3650 * 2) })).status).toBe(201);
      });

      it('refuses a service key without allowedCidrs when service keys need an allowlist; other key types are not concerned', async () => {
        await setPolicy({ requireAllowedCidrsForServiceKeys: true });
        expectViolation(await create({ keyType: 'service' }), ['allowedCidrs']);
        expectViolation(await create({ keyType: 'service', allowedCidrs: [] }), ['allowedCidrs']);
        const allowed = await create({ keyType: 'service', allowedCidrs: ['10.0.0.0/8'] });
        expect(allowed.status, allowed.text).toBe(201);
        expect(allowed.body.apiKey.policyViolations).toEqual([]);
        expect((await create({})).status).toBe(201);
      });

      it('refuses personal keys when they are not allowed, for every role, and still creates service keys', async () => {
        await setPolicy({ personalKeysAllowed: false });
        for (const who of [org.owner, admin, member, viewer, org.adminKey]) {
          const body = typeof who === 'string' ? { assignedToUserId: member.userId } : {};
          expectViolation(await create(body, who), ['keyType']);
        }
        expect((await create({ keyType: 'service' })).status).toBe(201);
      });

      it('reports every broken rule at once', async () => {
        await setPolicy({ maxKeyLifetimeDays: 10, requireAllowedCidrsForServiceKeys: true });
        expectViolation(await create({ keyType: 'service', expiresAt: days(11) }), ['expiresAt', 'allowedCidrs']);
      });

      it('still answers 403 before the policy for what the caller may not do', async () => {
        await setPolicy({ requireExpiry: true });
        const refused = await create({ keyType: 'service' }, member);
        expect(refused.status).toBe(403);
        expect(refused.body.error).toBe('insufficient_permissions');
      });
    });

    describe('on edit and roll', () => {
      afterAll(async () => setPolicy({}));

      it('holds a PATCH of expiresAt to the maximum lifetime and to requireExpiry', async () => {
        const { apiKey } = await org.createKey(org.owner, { expiresAt: days(5) });
        await setPolicy({ maxKeyLifetimeDays: 30, requireExpiry: true });
        expectViolation(await patch(apiKey.id, { expiresAt: days(45) }), ['expiresAt']);
        expectViolation(await patch(apiKey.id, { expiresAt: null }), ['expiresAt']);
        expect(Date.parse((await get(apiKey.id)).body.expiresAt)).toBeLessThan(Date.now() + 6 * DAY);
        const shortened = await patch(apiKey.id, { expiresAt: days(20) });
        expect(shortened.status, shortened.text).toBe(200);
        expect(shortened.body.policyViolations).toEqual([]);
      });

      it('holds a PATCH of allowedCidrs on a service key to the allowlist rule, and lets other edits through', async () => {
        await setPolicy({});
        const { apiKey } = await org.createKey(org.owner, { keyType: 'service', allowedCidrs: ['192.0.2.0/24'] });
        await setPolicy({ requireAllowedCidrsForServiceKeys: true });
        expectViolation(await patch(apiKey.id, { allowedCidrs: [] }), ['allowedCidrs']);
        expect((await get(apiKey.id)).body.allowedCidrs).toEqual(['192.0.2.0/24']);
        expect((await patch(apiKey.id, { allowedCidrs: ['2001:db8::/32'] })).status).toBe(200);
        const personal = await org.createKey(org.owner);
        expect((await patch(personal.apiKey.id, { allowedCidrs: [] })).status).toBe(200);
      });

      it('lets a key that breaks a new policy be renamed, but not rolled until its expiry complies', async () => {
        await setPolicy({});
        const { apiKey } = await org.createKey(org.owner);
        const far = await org.createKey(org.owner, { expiresAt: days(200) });
        await setPolicy({ maxKeyLifetimeDays: 90 });
        const renamed = await patch(apiKey.id, { name: 'renamed under policy' });
        expect(renamed.status, renamed.text).toBe(200);
        expect(renamed.body.policyViolations).toEqual(['maxKeyLifetimeDays']);
        expectViolation(await roll(apiKey.id), ['expiresAt']);
        expectViolation(await roll(far.apiKey.id), ['expiresAt']);
        expect((await patch(far.apiKey.id, { expiresAt: days(60) })).status).toBe(200);
        const rolled = await roll(far.apiKey.id);
        expect(rolled.status, rolled.text).toBe(201);
        expect(rolled.body.apiKey.policyViolations).toEqual([]);
        // A roll keeps the expiry.
        expect(Math.abs(Date.parse(rolled.body.apiKey.expiresAt) - Date.parse(days(60)))).toBeLessThan(10_000);
      });

      it('refuses to roll a key without an expiry under requireExpiry, even with a default lifetime', async () => {
        await setPolicy({});
        const { apiKey, token } = await org.createKey(org.owner);
        await setPolicy({ requireExpiry: true, defaultKeyLifetimeDays: 30 });
        expectViolation(await roll(apiKey.id), ['expiresAt']);
        // The refused roll changed nothing: the old token still works.
        expect((await call(server, 'GET', '/api/auth/whoami', { token })).status).toBe(200);
      });
    });

    it('changes no existing key, and lists the rules each one breaks now in policyViolations', async () => {
      await setPolicy({});
      const forever = await org.createKey(org.owner);
      const shortLived = await org.createKey(org.owner, { expiresAt: days(3) });
      const service = await org.createKey(org.owner, { keyType: 'service', expiresAt: days(3) });
      const fenced = await org.createKey(org.owner, { keyType: 'service', allowedCidrs: ['10.0.0.0/8'], expiresAt: days(3) });
      const revoked = await org.createKey(org.owner);
      expect((await call(server, 'DELETE', `/api/api-keys/${revoked.apiKey.id}`, { token: org.owner.session, headers: headers() })).status).toBe(200);
      for (const key of [forever, shortLived, service, fenced]) expect((await get(key.apiKey.id)).body.policyViolations).toEqual([]);

      await setPolicy({ maxKeyLifetimeDays: 30, requireExpiry: true, requireAllowedCidrsForServiceKeys: true, personalKeysAllowed: false });
      const expected: [typeof forever, string[]][] = [
        [forever, ['maxKeyLifetimeDays', 'requireExpiry', 'personalKeysAllowed']],
        [shortLived, ['personalKeysAllowed']],
        [service, ['requireAllowedCidrsForServiceKeys']],
        [fenced, []],
        [revoked, []],
      ];
      for (const [key, violations] of expected) {
        const now = await get(key.apiKey.id);
        expect(now.body.policyViolations, key.apiKey.name).toEqual(violations);
        expect(now.body.expiresAt).toBe(key.apiKey.expiresAt);
        expect(now.body.status).toBe(key === revoked ? 'revoked' : 'active');
      }
      const listed = await call(server, 'GET', '/api/api-keys?status=all&limit=100', { token: org.owner.session, headers: headers() });
      const byId = new Map(listed.body.data.map((k: { id: string; policyViolations: string[] }) => [k.id, k.policyViolations]));
      for (const [key, violations] of expected) expect(byId.get(key.apiKey.id)).toEqual(violations);
      // The keys still work: the policy blocks nothing that exists.
      expect((await call(server, 'GET', '/api/auth/whoami', { token: forever.token })).status).toBe(200);
      await setPolicy({});
      expect((await get(forever.apiKey.id)).body.policyViolations).toEqual([]);
    });

    it("keeps each organization's policy to itself", async () => {
      const other = await createOrg(server);
      await setPolicy({ personalKeysAllowed: false });
      const otherPolicy = await call(server, 'GET', '/api/organization/policy', { token: other.owner.session });
      expect(otherPolicy.body.policy).toEqual(open);
      expect((await other.createKey(other.owner)).apiKey.policyViolations).toEqual([]);
      await setPolicy({});
    });
  });
}
