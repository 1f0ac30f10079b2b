import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyFormat, randomBase62 } from '@keyward/core';
import { call, createOrg, startServer, type OrgFixture, type Person, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

/** A clock the test moves by hand, so that every key has its own creation, expiry and last use. */
function manualClock(start: Date) {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (ms: number) => void (now += ms), at: () => now };
}

const sorts = ['createdAt', '-createdAt', 'lastUsedAt', '-lastUsedAt', 'expiresAt', '-expiresAt', 'name', '-name'] as const;

/** The order a sort promises, computed from the keys themselves: values first (nulls last either way), then id. */
function expectedOrder(keys: any[], sort: (typeof sorts)[number]): string[] {
  const descending = sort.startsWith('-');
  const field = sort.replace('-', '');
  const valueOf = (key: any): string | number | null =>
    field === 'name' ? key.name.toLowerCase() : key[field] === null ? null : new Date(key[field]).getTime();
  const withValue = keys.filter((k) => valueOf(k) !== null);
  const without = keys.filter((k) => valueOf(k) === null);
  const compare = (a: any, b: any) => {
    const [x, y] = [valueOf(a)!, valueOf(b)!];
    const byValue = x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    return descending ? -byValue : byValue;
  };
  const byId = (a: any, b: any) => (descending ? -1 : 1) * (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return [...withValue.sort(compare), ...without.sort(byId)].map((k) => k.id);
}

/**
 * Finding keys (CONTRACT.md, "Your own API", and issue 12): `q` matches a name, an exact id, the last
 * four characters or a whole pasted token (by its hash; never a credential, never logged);
 * `ownerUserId` filters; `sort` orders by creation, last use, expiry or name in both directions with
 * cursors that keep working; an unknown query parameter is 422 naming it.
 * @see issue 12
 */
for (const dialect of await dialects()) {
  describe(`finding keys on ${dialect}`, () => {
    const clock = manualClock(new Date());
    let server: TestServer;
    let org: OrgFixture;
    let other: OrgFixture;
    let member: Person;
    const headers = () => ({ 'x-organization-id': org.orgId });
    const list = (query: string, token = org.owner.session) => call(server, 'GET', `/api/api-keys?${query}`, { token, headers: headers() });
    const ids = (answer: { body: { data: { id: string }[] } }) => answer.body.data.map((k) => k.id);
    /** Every token pasted into a search, to look for in the logs at the end. */
    const searched: string[] = [];
    const search = async (token: string, as = org.owner.session) => {
      searched.push(token);
      const answer = await list(`status=all&q=${encodeURIComponent(token)}`, as);
      expect(answer.status, answer.text).toBe(200);
      return ids(answer);
    };

    beforeAll(async () => {
      server = await startServer({ dialect, clock });
      org = await createOrg(server);
      other = await createOrg(server);
      member = await org.addMember('MEMBER');
    });
    afterAll(async () => server?.close());

    it('q finds a key by a part of its name (any case), its exact id, or the last four characters of its token', async () => {
      const key = await org.createKey(org.owner, { name: 'Nightly Export Job' });
      for (const q of ['nightly export', 'EXPORT JOB', 'xport']) expect(await search(q)).toContain(key.apiKey.id);
      expect(await search(key.apiKey.id)).toEqual([key.apiKey.id]);
      const lastFour = key.token.slice(-4);
      const byLastFour = await list(`status=all&q=${lastFour}`);
      expect(ids(byLastFour)).toContain(key.apiKey.id);
      for (const found of byLastFour.body.data) expect(found.preview.endsWith(lastFour) || found.name.toLowerCase().includes(lastFour.toLowerCase())).toBe(true);
      // Three characters of the end, or the last four in another case, are not the last four.
      // (A random end can spell a part of the name, which q matches in any case: then it proves nothing.)
      const lastThree = key.token.slice(-3);
      if (!'nightly export job'.includes(lastThree.toLowerCase())) expect(await search(lastThree)).not.toContain(key.apiKey.id);
      const otherCase = [...lastFour].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
      if (otherCase !== lastFour && !'nightly export job'.includes(otherCase.toLowerCase())) expect(await search(otherCase)).not.toContain(key.apiKey.id);
      // An id is matched exactly: a part of it finds nothing.
      expect(await search(key.apiKey.id.slice(0, -1))).toEqual([]);
    });

    it('q finds the key of a whole pasted token (personal, service, project, and a rolled key\'s previous secret) by its hash', async () => {
      const personal = await org.createKey(org.owner, { name: 'pasted personal' });
      const service = await org.createKey(org.owner, { name: 'pasted service', keyType: 'service', expiresAt: new Date(clock.at() + 86_400_000).toISOString() });
      const project = await call(server, 'POST', '/api/projects', { token: org.owner.session, headers: headers(), body: { name: 'Pasted project' } });
      expect(project.status, project.text).toBe(201);
      const projectKey = await org.createKey(org.owner, { name: 'pasted project key', keyType: 'project', projectId: project.body.project.id });
      for (const created of [personal, service, projectKey]) expect(await search(created.token)).toEqual([created.apiKey.id]);

      const rolled = await call(server, 'POST', `/api/api-keys/${personal.apiKey.id}/roll`, {
        token: org.owner.session,
        headers: headers(),
        body: { oldKeyExpiresAt: new Date(clock.at() + 3_600_000).toISOString() },
      });
      expect(rolled.status, rolled.text).toBe(201);
      expect(await search(rolled.body.token)).toEqual([personal.apiKey.id]);
      expect(await search(personal.token)).toEqual([personal.apiKey.id]);

      // Revoked keys are found too (status=all), e.g. to check that a leaked token is dead.
      expect((await call(server, 'DELETE', `/api/api-keys/${service.apiKey.id}`, { token: org.owner.session, headers: headers() })).status).toBe(200);
      const revoked = await list(`status=all&q=${encodeURIComponent(service.token)}`);
      expect(revoked.body.data).toMatchObject([{ id: service.apiKey.id, status: 'revoked' }]);
      searched.push(service.token);
      expect(ids(await list(`q=${encodeURIComponent(service.token)}`))).toEqual([]); // the default status is active
    });

    it('a token of another organization, an unknown token, a mistyped one or one out of the caller\'s sight finds nothing', async () => {
      const theirs = await other.createKey(other.owner, { name: 'their key' });
      expect(await search(theirs.token)).toEqual([]);
      expect(await search(other.adminKey)).toEqual([]);
      const unknown = createKeyFormat().generate(randomBase62(16)).token;
      expect(await search(unknown)).toEqual([]);
      const mine = await org.createKey(org.owner, { name: 'mistyped search' });
      const mistyped = mine.token.slice(0, -1) + (mine.token.endsWith('a') ? 'b' : 'a');
      expect(await search(mistyped)).toEqual([]);
      // A member sees their own keys and the service keys, whatever they paste.
      const membersOwn = await org.createKey(member, { name: 'member own' });
      const service = await org.createKey(org.owner, { name: 'visible service', keyType: 'service', expiresAt: new Date(clock.at() + 86_400_000).toISOString() });
      expect(await search(mine.token, member.session)).toEqual([]);
      expect(await search(membersOwn.token, member.session)).toEqual([membersOwn.apiKey.id]);
      expect(await search(service.token, member.session)).toEqual([service.apiKey.id]);
      expect(await search(mine.apiKey.id, member.session)).toEqual([]);
    });

    it('a token in q is a search term, never a credential', async () => {
      const admin = org.adminKey;
      searched.push(admin);
      const anonymous = await call(server, 'GET', `/api/api-keys?q=${encodeURIComponent(admin)}`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error).toBe('unauthorized');
      const whoami = await call(server, 'GET', `/api/auth/whoami?q=${encodeURIComponent(admin)}`);
      expect(whoami.status).toBe(401);
    });

    it('ownerUserId keeps the keys of one member; a member still sees only what they may', async () => {
      const ownersKey = await org.createKey(org.owner, { name: 'owner filter' });
      const membersKey = await org.createKey(member, { name: 'member filter' });
      const ofMember = await list(`status=all&ownerUserId=${member.userId}&limit=100`);
      expect(ofMember.status).toBe(200);
      expect(ids(ofMember)).toContain(membersKey.apiKey.id);
      expect(ids(ofMember)).not.toContain(ownersKey.apiKey.id);
      for (const key of ofMember.body.data) expect(key.ownerUserId).toBe(member.userId);
      const ofOwner = await list(`status=all&ownerUserId=${org.owner.userId}&limit=100`);
      expect(ids(ofOwner)).toContain(ownersKey.apiKey.id);
      for (const key of ofOwner.body.data) expect(key.ownerUserId).toBe(org.owner.userId);
      expect(ids(await list(`status=all&ownerUserId=${org.owner.userId}`, member.session))).toEqual([]);
      expect(ids(await list(`status=all&ownerUserId=${member.userId}&q=member%20filter`, member.session))).toEqual([membersKey.apiKey.id]);
      const bad = await list('ownerUserId=nobody');
      expect(bad.status).toBe(422);
      expect(bad.body.reasons[0].path).toBe('ownerUserId');
    });

    it('sorts by createdAt, lastUsedAt, expiresAt and name both ways, keys never used or never expiring last either way', async () => {
      const fresh = await createOrg(server);
      const h = { 'x-organization-id': fresh.orgId };
      const names = ['delta', 'Alpha', 'charlie', 'Echo', 'bravo', 'foxtrot'];
      const made = [];
      for (const [i, name] of names.entries()) {
        clock.advance(1000);
        // Every other key expires, at times in another order than creation.
        const expiresAt = i % 2 === 0 ? new Date(clock.at() + (10 - i) * 86_400_000).toISOString() : undefined;
        made.push(await fresh.createKey(fresh.owner, { name, ...(expiresAt ? { expiresAt } : {}) }));
      }
      // Three keys are used, in another order again; the others never are.
      for (const index of [4, 0, 2]) {
        clock.advance(1000);
        expect((await call(server, 'GET', '/api/auth/whoami', { token: made[index]!.token })).status).toBe(200);
      }
      await server.composed.services.usage.flush();
      const all = await call(server, 'GET', '/api/api-keys?status=all&limit=100', { token: fresh.owner.session, headers: h });
      expect(all.body.data.filter((k: any) => k.lastUsedAt !== null)).toHaveLength(3);
      expect(all.body.data.filter((k: any) => k.expiresAt === null).length).toBeGreaterThanOrEqual(3);
      const keys = all.body.data;
      // The default is -createdAt: newest first.
      expect(ids(all)).toEqual(expectedOrder(keys, '-createdAt'));
      for (const sort of sorts) {
        const sorted = await call(server, 'GET', `/api/api-keys?status=all&limit=100&sort=${sort}`, { token: fresh.owner.session, headers: h });
        expect(sorted.status, sorted.text).toBe(200);
        expect(ids(sorted), sort).toEqual(expectedOrder(keys, sort));
      }
      const byName = await call(server, 'GET', '/api/api-keys?status=all&limit=100&sort=name', { token: fresh.owner.session, headers: h });
      expect(byName.body.data.map((k: any) => k.name).filter((n: string) => names.includes(n))).toEqual(['Alpha', 'bravo', 'charlie', 'delta', 'Echo', 'foxtrot']);
      for (const sort of ['lastUsedAt', '-lastUsedAt']) {
        const sorted = await call(server, 'GET', `/api/api-keys?status=all&limit=100&sort=${sort}`, { token: fresh.owner.session, headers: h });
        const used = sorted.body.data.map((k: any) => k.lastUsedAt !== null);
        expect(used.slice(0, 3), sort).toEqual([true, true, true]);
        expect(used.slice(3).every((u: boolean) => !u), sort).toBe(true);
      }
    });

    it('cursors keep working for every sort: pages of two give the same list as one page', async () => {
      const fresh = await createOrg(server);
      const h = { 'x-organization-id': fresh.orgId };
      for (let i = 0; i < 7; i++) {
        clock.advance(1000);
        // Repeated names and repeated expiries: ties are ordered by id, across page boundaries too.
        const expiresAt = i % 3 === 0 ? undefined : new Date(clock.at() + (i % 2) * 86_400_000 + 86_400_000).toISOString();
        const created = await fresh.createKey(fresh.owner, { name: i % 2 ? 'Same name' : `name ${i}`, ...(expiresAt ? { expiresAt } : {}) });
        if (i % 2 === 0) {
          clock.advance(10);
          await call(server, 'GET', '/api/auth/whoami', { token: created.token });
        }
      }
      await server.composed.services.usage.flush();
      for (const sort of sorts) {
        const whole = await call(server, 'GET', `/api/api-keys?status=all&limit=100&sort=${sort}`, { token: fresh.owner.session, headers: h });
        expect(whole.body.nextCursor).toBeNull();
        const paged: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page: any = await call(server, 'GET', `/api/api-keys?status=all&limit=2&sort=${sort}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
            token: fresh.owner.session,
            headers: h,
          });
          expect(page.status, `${sort}: ${page.text}`).toBe(200);
          expect(page.body.data.length).toBeLessThanOrEqual(2);
          paged.push(...ids(page));
          cursor = page.body.nextCursor;
          pages++;
        } while (cursor && pages < 20);
        expect(paged, sort).toEqual(ids(whole));
        expect(paged).toHaveLength(8);
      }
    });

    it('refuses an unknown query parameter, an unknown sort and a cursor of another sort with 422 validation_failed', async () => {
      const unknown = await list('ownerId=usr_abc');
      expect(unknown.status).toBe(422);
      expect(unknown.body.error).toBe('validation_failed');
      expect(JSON.stringify(unknown.body.reasons)).toContain('ownerId');
      const several = await list('search=x&status=all');
      expect(several.status).toBe(422);
      expect(JSON.stringify(several.body.reasons)).toContain('search');
      const badSort = await list('sort=size');
      expect(badSort.status).toBe(422);
      expect(badSort.body.reasons[0].path).toBe('sort');
      const byName = await list('status=all&limit=1&sort=name');
      expect(byName.body.nextCursor).toBeTruthy();
      const mixed = await list(`status=all&limit=1&sort=-lastUsedAt&cursor=${encodeURIComponent(byName.body.nextCursor)}`);
      expect(mixed.status).toBe(422);
      expect(mixed.body).toMatchObject({ error: 'validation_failed', reasons: [{ path: 'cursor' }] });
      const forged = Buffer.from(JSON.stringify(['name', 42, 'key_abc'])).toString('base64url');
      expect((await list(`sort=name&cursor=${forged}`)).status).toBe(422);
      const withNul = Buffer.from(JSON.stringify(['name', 'a\u0000b', 'key_abc'])).toString('base64url');
      expect((await list(`sort=name&cursor=${withNul}`)).body).toMatchObject({ error: 'validation_failed', reasons: [{ path: 'cursor' }] });
      const nullName = Buffer.from(JSON.stringify(['name', null, 'key_abc'])).toString('base64url');
      expect((await list(`sort=name&cursor=${nullName}`)).status).toBe(422);
    });

    it('never writes a pasted token to the logs', () => {
      // Only whole pasted tokens: a short search (three letters of a tail) can be part of any log line.
      const pasted = searched.filter((q) => q.length >= 40);
      expect(pasted.length).toBeGreaterThan(5);
      const logs = server.logs.join('');
      for (const token of pasted) {
        expect(logs).not.toContain(token);
        expect(logs).not.toContain(token.slice(-30));
      }
    });
  });
}
