import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, clientIdOf, postForm } from '../oauth/support.js';
import { dialects } from '../support/dialects.js';
import { call, createOrg, startServer, type OrgFixture, type Person, type TestServer } from '../support/server.js';

/**
 * The granting rule as a property of the public API (issue 10): whatever sequence of creates, edits,
 * access-token mints and role changes runs, every key made or edited by a caller can do, at that
 * moment, nothing its caller cannot do. "Can do" is what `GET /api/auth/whoami` reports, at the
 * organization and at each project: the oracle is the server's own view of both credentials, not
 * the rule under test.
 */
const PERMISSIONS = ['traces:read', 'traces:write', 'datasets:read', 'secrets:write', 'project:write', 'organization:manage'];

interface Credential {
  readonly token: string;
  readonly label: string;
  readonly keyId?: string;
}

interface KeyBody {
  readonly keyType: string;
  readonly bindings?: ReadonlyArray<{ role: string; target: number }> | undefined;
  readonly restricted?: readonly string[] | undefined;
  readonly scopes?: ReadonlyArray<{ action: string; resource: string }> | undefined;
  readonly forMember: boolean;
}

type Step =
  | { kind: 'create'; caller: number; body: KeyBody }
  | { kind: 'edit'; caller: number; target: number; body: KeyBody }
  | { kind: 'token'; from: number; scope: string[] }
  | { kind: 'role'; person: 'admin' | 'member'; role: 'ADMIN' | 'MEMBER' | 'VIEWER' };

for (const dialect of await dialects()) {
  describe(`the granting rule as a property of the API on ${dialect}`, () => {
    let server: TestServer;
    let org: OrgFixture;
    let people: Record<'admin' | 'member' | 'viewer', Person>;
    let places: Array<string | null>;

    beforeAll(async () => {
      server = await startServer({ dialect, env: { KEYWARD_KEY_CREATIONS_PER_MINUTE: '0', KEYWARD_AUTH_FAILURES_PER_MINUTE: '0' } });
      org = await createOrg(server);
      const team = (await call(server, 'POST', '/api/teams', { token: org.owner.session, body: { name: 'platform' } })).body.team.id;
      const inTeam = (await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: 'api', teamId: team } })).body.project.id;
      const alone = (await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: 'web' } })).body.project.id;
      const other = (await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: 'jobs', teamId: team } })).body.project.id;
      places = [null, inTeam, alone, other];
      people = { admin: await org.addMember('ADMIN'), member: await org.addMember('MEMBER'), viewer: await org.addMember('VIEWER') };
      const binding = await call(server, 'POST', '/api/role-bindings', {
        token: org.owner.session,
        body: { userId: people.member.userId, role: 'ADMIN', scopeType: 'PROJECT', scopeId: alone },
      });
      expect(binding.status).toBe(201);
      bindingTargets = [
        { scopeType: 'ORGANIZATION', scopeId: org.orgId },
        { scopeType: 'TEAM', scopeId: team },
        { scopeType: 'PROJECT', scopeId: inTeam },
        { scopeType: 'PROJECT', scopeId: alone },
      ];
    });
    afterAll(async () => server?.close());

    let bindingTargets: Array<{ scopeType: string; scopeId: string }> = [];

    /** What a credential may do at a place; without a place, a key bound to one project answers for it. */
    const permissionsOf = async (token: string, place: string | null): Promise<{ projectId: string | null; permissions: string[] } | null> => {
      const answer = await call(server, 'GET', '/api/auth/whoami', { token, headers: place ? { 'x-project-id': place } : {} });
      return answer.status === 200 ? { projectId: answer.body.projectId ?? null, permissions: answer.body.permissions as string[] } : null;
    };

    /** Everything `granted` may do at every place lies within what `caller` may do there, now. */
    const expectWithin = async (granted: string, caller: Credential, what: string) => {
      for (const place of places) {
        const mine = await permissionsOf(granted, place);
        if (!mine) continue;
        const theirs = (await permissionsOf(caller.token, place)) ?? { projectId: place, permissions: [] };
        // Without a place, compare organization with organization only (each project is compared below).
        if (place === null && (mine.projectId !== null || theirs.projectId !== null)) continue;
        const beyond = mine.permissions.filter((p) => !theirs.permissions.includes(p));
        expect(beyond, `${what} by ${caller.label} at ${place ?? 'the organization'}`).toEqual([]);
      }
    };

    const bodyArb = fc.record({
      keyType: fc.constantFrom('personal', 'personal', 'service'),
      bindings: fc.option(
        fc.array(fc.record({ role: fc.constantFrom('ADMIN', 'MEMBER', 'VIEWER'), target: fc.nat(3) }), { minLength: 1, maxLength: 2 }),
        { nil: undefined },
      ),
      // Keys that keep organization:manage (and scopes that let it through) can call the management
      // API: those are the callers that could mint beyond themselves, so most keys keep it.
      restricted: fc.option(
        fc.tuple(fc.constantFrom(true, true, false), fc.subarray(PERMISSIONS, { minLength: 1, maxLength: 3 })).map(([manage, some]) =>
          manage ? [...new Set(['organization:manage', ...some])] : some,
        ),
        { nil: undefined },
      ),
      scopes: fc.option(
        fc.tuple(
          fc.constantFrom(true, true, false),
          fc.array(fc.record({ action: fc.constantFrom('read', 'write', 'admin', '*'), resource: fc.constantFrom('*', 'projects/*', 'projects/*/traces', 'traces') }), {
            minLength: 1,
            maxLength: 2,
          }),
        ).map(([manage, some]) => (manage ? [{ action: 'admin', resource: 'organization' }, ...some] : some)),
        { nil: undefined },
      ),
      forMember: fc.boolean(),
    });
    const stepArb: fc.Arbitrary<Step> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('create' as const), caller: fc.nat(50), body: bodyArb }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('edit' as const), caller: fc.nat(50), target: fc.nat(50), body: bodyArb }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('token' as const), from: fc.nat(50), scope: fc.subarray(PERMISSIONS, { minLength: 1, maxLength: 3 }) }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('role' as const),
          person: fc.constantFrom('admin' as const, 'member' as const),
          role: fc.constantFrom('ADMIN' as const, 'MEMBER' as const, 'VIEWER' as const),
        }),
      },
    );

    const requestBody = (body: KeyBody, withType: boolean) => {
      const out: Record<string, unknown> = { name: `prop ${randomBytes(3).toString('hex')}` };
      if (withType) out.keyType = body.keyType;
      if (body.bindings) out.bindings = body.bindings.map((b) => ({ role: b.role, ...bindingTargets[b.target] }));
      if (body.restricted) {
        out.permissionMode = 'restricted';
        out.permissions = body.restricted;
      } else if (!withType) out.permissionMode = 'all';
      if (body.scopes) out.scopes = body.scopes;
      if (withType && body.keyType === 'personal' && body.forMember) out.assignedToUserId = people.member.userId;
      return out;
    };

    it('never yields a key or an edit that exceeds its caller at that moment', async () => {
      let created = 0;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(stepArb, { minLength: 2, maxLength: 7 }), async (steps) => {
          // Every run starts from the people (and the org's admin key); made keys join the pool.
          for (const person of ['admin', 'member'] as const) {
            await call(server, 'PATCH', `/api/members/${people[person].userId}`, { token: org.owner.session, body: { role: person === 'admin' ? 'ADMIN' : 'MEMBER' } });
          }
          const pool: Credential[] = [
            { token: org.owner.session, label: 'the owner' },
            { token: people.admin.session, label: 'an ADMIN' },
            { token: people.member.session, label: 'a MEMBER' },
            { token: people.viewer.session, label: 'a VIEWER' },
            { token: org.adminKey, label: 'the org admin key' },
          ];
          for (const step of steps) {
            if (step.kind === 'role') {
              await call(server, 'PATCH', `/api/members/${people[step.person].userId}`, { token: org.owner.session, body: { role: step.role } });
              continue;
            }
            if (step.kind === 'token') {
              const from = pool[step.from % pool.length]!;
              if (!from.keyId) continue;
              const answer = await postForm(server, '/oauth/token', { grant_type: 'client_credentials', scope: step.scope.join(' ') }, { authorization: basic(clientIdOf(from.token), from.token) });
              if (answer.status === 200) pool.push({ token: answer.body.access_token, label: `a token of ${from.label} (${step.scope.join(' ')})` });
              continue;
            }
            // Half the time the newest credential calls: chains of keys making keys.
            const caller = step.caller % 2 === 0 ? pool.at(-1)! : pool[step.caller % pool.length]!;
            if (step.kind === 'create') {
              const body = requestBody(step.body, true);
              const answer = await call(server, 'POST', '/api/api-keys', { token: caller.token, body });
              if (answer.status === 201) {
                created++;
                await expectWithin(answer.body.token, caller, `a key ${JSON.stringify(body)} made`);
                pool.push({ token: answer.body.token, label: `a key made by ${caller.label}`, keyId: answer.body.apiKey.id });
              } else {
                refused++;
                expect(answer.status, answer.text).toBeLessThan(500);
              }
            } else {
              const targets = pool.filter((c) => c.keyId);
              if (targets.length === 0) continue;
              const target = targets[step.target % targets.length]!;
              const body = requestBody(step.body, false);
              const answer = await call(server, 'PATCH', `/api/api-keys/${target.keyId}`, { token: caller.token, body });
              if (answer.status === 200) await expectWithin(target.token, caller, `an edit ${JSON.stringify(body)} of ${target.label}`);
              else expect(answer.status, answer.text).toBeLessThan(500);
            }
          }
        }),
        // 80 runs: with 40, about 19 keys were made on average, and once only 9 (the check below failed).
        { numRuns: 80 },
      );
      // The property is not vacuous: keys were made and refused.
      expect(created).toBeGreaterThan(10);
      expect(refused).toBeGreaterThan(10);
    }, 240_000);
  });
}
