import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeMemberRole, createOrganization, removeMember, userGrants, type OrgId, type UserActor, type UserId } from '@keyward/core';
import { call, createOrg, startServer, type OrgFixture, type Person, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

/**
 * No organization is ever left without an OWNER, even when its last two owners demote or remove each
 * other (or themselves) at the same moment: on PostgreSQL each request counting the other as still an
 * owner used to let both through. @see issue 10, "Also from the review".
 */
const ROUNDS = 8;

type Race = (server: TestServer, orgId: string, a: Person, b: Person) => Promise<{ status: number; body: any }[]>;

const as = (person: Person, orgId: string) => ({ token: person.session, headers: { 'x-organization-id': orgId } });

const races: Record<string, Race> = {
  'demote each other': (server, orgId, a, b) =>
    Promise.all([
      call(server, 'PATCH', `/api/members/${b.userId}`, { ...as(a, orgId), body: { role: 'ADMIN' } }),
      call(server, 'PATCH', `/api/members/${a.userId}`, { ...as(b, orgId), body: { role: 'ADMIN' } }),
    ]),
  'remove each other': (server, orgId, a, b) =>
    Promise.all([
      call(server, 'DELETE', `/api/members/${b.userId}`, as(a, orgId)),
      call(server, 'DELETE', `/api/members/${a.userId}`, as(b, orgId)),
    ]),
  'demote themselves': (server, orgId, a, b) =>
    Promise.all([
      call(server, 'PATCH', `/api/members/${a.userId}`, { ...as(a, orgId), body: { role: 'MEMBER' } }),
      call(server, 'PATCH', `/api/members/${b.userId}`, { ...as(b, orgId), body: { role: 'VIEWER' } }),
    ]),
  'one demotes, the other removes': (server, orgId, a, b) =>
    Promise.all([
      call(server, 'PATCH', `/api/members/${b.userId}`, { ...as(a, orgId), body: { role: 'VIEWER' } }),
      call(server, 'DELETE', `/api/members/${a.userId}`, as(b, orgId)),
    ]),
};

for (const dialect of await dialects()) {
  describe(`the owner count under concurrent changes on ${dialect}`, () => {
    let server: TestServer;
    let home: OrgFixture;
    let a: Person;
    let b: Person;

    beforeAll(async () => {
      server = await startServer({ dialect, env: { KEYWARD_LOG_LEVEL: 'warn' } });
      home = await createOrg(server);
      a = home.owner;
      b = await home.addMember('VIEWER');
    });
    afterAll(async () => server?.close());

    /** A fresh organization whose only owners are a and b (b invited by a as OWNER and accepting). */
    async function ownedByAAndB(): Promise<string> {
      const { organization } = await createOrganization(server.composed.services.deps, {
        name: `Race ${randomUUID()}`,
        ownerEmail: a.email,
        ownerPassword: a.password,
        bootstrap: false,
        createAdminKey: false,
      });
      const headers = { 'x-organization-id': organization.id };
      const invited = await call(server, 'POST', '/api/members', { token: a.session, headers, body: { email: b.email, role: 'OWNER' } });
      expect(invited.status).toBe(201);
      const accepted = await call(server, 'POST', '/api/invitations/accept', { body: { token: invited.body.invitation.token, password: b.password } });
      expect(accepted.status).toBe(200);
      return organization.id;
    }

    async function activeOwners(orgId: string): Promise<string[]> {
      const { store } = server.composed.services.deps;
      const page = await store.members.list(orgId as OrgId, { limit: 100 });
      return page.items.filter((m) => m.role === 'OWNER' && m.status === 'active').map((m) => m.userId);
    }

    for (const [name, race] of Object.entries(races)) {
      it(`lets exactly one of two owners who ${name} at once through, ${ROUNDS} times over`, async () => {
        for (let round = 0; round < ROUNDS; round++) {
          const orgId = await ownedByAAndB();
          const answers = await race(server, orgId, a, b);
          const statuses = answers.map((answer) => answer.status);
          expect(statuses.filter((s) => s === 200), `round ${round}: ${statuses.join(' ')}`).toHaveLength(1);
          for (const refused of answers.filter((answer) => answer.status !== 200)) {
            // 409: the other change left this one the last owner. 403: the other change demoted the
            // caller first. 404: it removed the caller before their request was even authenticated.
            const expected = { 409: 'last_owner', 403: 'insufficient_permissions', 404: 'organization_not_found' } as Record<number, string>;
            expect(expected[refused.status], JSON.stringify(refused.body)).toBe(refused.body.error);
          }
          expect(await activeOwners(orgId), `round ${round}`).toHaveLength(1);
        }
      });
    }

    it('still lets an owner hand over: promote someone, then step down', async () => {
      const org = await createOrg(server);
      const a = org.owner;
      const b = await org.addMember('OWNER');
      const third = await org.addMember('ADMIN');
      expect((await call(server, 'PATCH', `/api/members/${third.userId}`, { token: b.session, headers: { 'x-organization-id': org.orgId }, body: { role: 'OWNER' } })).status).toBe(200);
      expect((await call(server, 'DELETE', `/api/members/${b.userId}`, { token: a.session, headers: { 'x-organization-id': org.orgId } })).status).toBe(200);
      expect((await call(server, 'PATCH', `/api/members/${a.userId}`, { token: a.session, headers: { 'x-organization-id': org.orgId }, body: { role: 'ADMIN' } })).status).toBe(200);
      expect(await activeOwners(org.orgId)).toEqual([third.userId]);
      const last = await call(server, 'PATCH', `/api/members/${third.userId}`, { token: third.session, headers: { 'x-organization-id': org.orgId }, body: { role: 'ADMIN' } });
      expect(last.status).toBe(409);
      expect(last.body.error).toBe('last_owner');
    });

    it('refuses an owner-only change from an actor whose OWNER role was taken since it was authenticated', async () => {
      const org = await createOrg(server);
      const a = org.owner;
      const b = await org.addMember('OWNER');
      const c = await org.addMember('OWNER');
      const orgId = org.orgId as OrgId;
      const { deps } = server.composed.services;
      // b's request was authenticated as an OWNER; a demotes b before b's change reaches the store.
      const asAuthenticated = (await deps.store.members.find(orgId, b.userId as UserId))!;
      const staleActor: UserActor = {
        type: 'user',
        orgId,
        userId: b.userId as UserId,
        role: 'OWNER',
        grants: userGrants(deps.catalogue, orgId, asAuthenticated, []),
        ip: null,
        requestId: null,
      };
      expect((await call(server, 'PATCH', `/api/members/${b.userId}`, { token: a.session, body: { role: 'ADMIN' } })).status).toBe(200);
      await expect(changeMemberRole(deps, staleActor, c.userId as UserId, 'ADMIN')).rejects.toMatchObject({ code: 'insufficient_permissions' });
      await expect(removeMember(deps, staleActor, c.userId as UserId)).rejects.toMatchObject({ code: 'insufficient_permissions' });
      await expect(changeMemberRole(deps, staleActor, b.userId as UserId, 'OWNER')).rejects.toMatchObject({ code: 'insufficient_permissions' });
      expect((await activeOwners(org.orgId)).sort()).toEqual([a.userId, c.userId].sort());
    });
  });
}
