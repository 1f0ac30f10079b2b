import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

interface Entry {
  readonly id: string;
  readonly at: string;
  readonly action: string;
  readonly targetId: string | null;
}

/**
 * CONTRACT.md, `/api/audit-log`: newest first, `at` descending and never going backwards down the
 * list, ties by id. Concurrent writers used to be listed in commit order with instants taken before
 * the lock, so adjacent entries' `at` went backwards. @see issue 10, item 5
 */
for (const dialect of await dialects()) {
  describe(`audit log order under concurrent changes on ${dialect}`, () => {
    let server: TestServer;
    let org: OrgFixture;

    beforeAll(async () => {
      server = await startServer({ dialect });
      org = await createOrg(server);
    });
    afterAll(async () => server?.close());

    async function pageThrough(limit: number, query = ''): Promise<Entry[]> {
      const entries: Entry[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 500; pages++) {
        const path: string = `/api/audit-log?limit=${limit}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await call<{ data: Entry[]; nextCursor: string | null }>(server, 'GET', path, { token: org.owner.session });
        expect(res.status, res.text).toBe(200);
        entries.push(...res.body.data);
        cursor = res.body.nextCursor;
        if (cursor === null) return entries;
      }
      throw new Error('the audit log did not end');
    }

    function expectNewestFirst(entries: readonly Entry[]): void {
      for (let i = 1; i < entries.length; i++) {
        const [above, below] = [entries[i - 1]!, entries[i]!];
        const [aboveAt, belowAt] = [Date.parse(above.at), Date.parse(below.at)];
        expect(belowAt, `entry ${i} (${below.action} at ${below.at}) is newer than the one above it (${above.action} at ${above.at})`).toBeLessThanOrEqual(aboveAt);
        if (belowAt === aboveAt) expect(below.id < above.id, `entries ${i - 1} and ${i} tie on at and are not ordered by id`).toBe(true);
      }
    }

    it('never lists an entry newer than the one above it, and pages through 40 concurrent changes with none missing or repeated', async () => {
      const session = org.owner.session;
      const changes = await Promise.all(
        Array.from({ length: 40 }, (_, i) => {
          if (i % 3 === 0) return call(server, 'POST', '/api/api-keys', { token: session, body: { name: `concurrent key ${i}` } }).then((r) => ({ status: r.status, id: r.body.apiKey?.id as string }));
          if (i % 3 === 1) return call(server, 'POST', '/api/projects', { token: session, body: { name: `concurrent project ${i}` } }).then((r) => ({ status: r.status, id: r.body.project?.id as string }));
          return call(server, 'POST', '/api/teams', { token: session, body: { name: `concurrent team ${i}` } }).then((r) => ({ status: r.status, id: r.body.team?.id as string }));
        }),
      );
      expect(changes.map((c) => c.status)).toEqual(Array(40).fill(201));

      const whole = await pageThrough(100);
      for (const limit of [1, 3, 7]) {
        const paged = await pageThrough(limit);
        expect(paged.map((e) => e.id)).toEqual(whole.map((e) => e.id));
      }
      expect(new Set(whole.map((e) => e.id)).size).toBe(whole.length);
      expectNewestFirst(whole);
      const targets = new Set(whole.map((e) => e.targetId));
      for (const change of changes) expect(targets.has(change.id), `no audit entry for ${change.id}`).toBe(true);

      const created = await pageThrough(2, '&action=api_key.created');
      expectNewestFirst(created);
      expect(created.map((e) => e.id)).toEqual(whole.filter((e) => e.action === 'api_key.created').map((e) => e.id));
    });

    it('lists quick successive changes in the reverse order they were made, even those stamped in one millisecond', async () => {
      const team = (await call(server, 'POST', '/api/teams', { token: org.owner.session, body: { name: 'renamed 0' } })).body.team;
      for (let i = 1; i <= 20; i++) {
        const renamed = await call(server, 'PATCH', `/api/teams/${team.id}`, { token: org.owner.session, body: { name: `renamed ${i}` } });
        expect(renamed.status, renamed.text).toBe(200);
      }
      const entries = (await pageThrough(4, `&targetId=${team.id}`)) as (Entry & { details: { to?: string } })[];
      expectNewestFirst(entries);
      expect(entries.map((e) => e.details.to ?? e.action)).toEqual([...Array.from({ length: 20 }, (_, i) => `renamed ${20 - i}`), 'team.created']);
    });
  });
}
