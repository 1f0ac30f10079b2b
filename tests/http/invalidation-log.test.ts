import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type KyselyStore } from '@keyward/store';
import { openTestStore, postgresAvailable, type TestStore } from '@keyward/store/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';

/**
 * CONTRACT.md "Several instances and operations": every instance sharing a store refuses a revoked,
 * edited or owner-demoted key within 1 s of the change's 2xx, whatever is lost: without Redis, with
 * the LISTEN connection killed, with a Redis publish lost, and for several processes on one SQLite file.
 */
const BOUND_MS = 1000;
const redisUrl = process.env.KEYWARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const pgReady = process.env.CI === 'true' || (await postgresAvailable());

/** Calls `probe` until it answers `wanted` or the bound passes; the time it took, or Infinity. */
async function within(probe: () => Promise<number>, wanted: number, boundMs = BOUND_MS): Promise<number> {
  const start = Date.now();
  for (;;) {
    const status = await probe();
    const elapsed = Date.now() - start;
    if (status === wanted) return elapsed;
    if (elapsed > boundMs) return Number.POSITIVE_INFINITY;
  }
}

/** Two servers over one database, with one pepper and encryption key, as a deployment runs them. */
async function pair(first: KyselyStore | TestStore, second: KyselyStore, env: Record<string, string> = {}): Promise<[TestServer, TestServer]> {
  const a = await startServer({ store: first, env });
  const b = await startServer({
    store: second,
    env: { ...env, KEYWARD_PEPPER: a.config.peppers[0]!.key.toString('hex'), KEYWARD_ENCRYPTION_KEY: a.config.encryptionKey.toString('hex') },
  });
  return [a, b];
}

function suite(name: string, open: () => Promise<{ a: TestServer; b: TestServer; close(): Promise<void>; extra?: Record<string, unknown> }>) {
  describe(name, () => {
    let a: TestServer;
    let b: TestServer;
    let org: OrgFixture;
    let closeAll: () => Promise<void>;

    beforeAll(async () => {
      const opened = await open();
      ({ a, b } = opened);
      closeAll = opened.close;
      org = await createOrg(a);
    });
    afterAll(async () => closeAll?.());

    const whoami = (server: TestServer, token: string, project?: string) =>
      call(server, 'GET', '/api/auth/whoami', { token, headers: project ? { 'x-project-id': project } : {} });

    it('refuses a key revoked on A on instance B within a second, and never accepts it after', async () => {
      for (let round = 0; round < 3; round++) {
        const { token, apiKey } = await org.createKey(org.owner);
        for (let i = 0; i < 5; i++) expect((await whoami(b, token)).status).toBe(200);
        expect((await call(a, 'DELETE', `/api/api-keys/${apiKey.id}`, { token: org.owner.session })).status).toBe(200);
        expect(await within(async () => (await whoami(b, token)).status, 401)).toBeLessThan(BOUND_MS);
        const after = await Promise.all(Array.from({ length: 30 }, async () => (await whoami(b, token)).status));
        expect(after.every((s) => s === 401)).toBe(true);
      }
    });

    it('applies an edit made on A on instance B within a second', async () => {
      const { token, apiKey } = await org.createKey(org.owner);
      expect((await call(b, 'GET', '/api/api-keys', { token })).status).toBe(200);
      const edited = await call(a, 'PATCH', `/api/api-keys/${apiKey.id}`, {
        token: org.owner.session,
        body: { permissionMode: 'restricted', permissions: ['traces:read'] },
      });
      expect(edited.status).toBe(200);
      expect(await within(async () => (await call(b, 'GET', '/api/api-keys', { token })).status, 403)).toBeLessThan(BOUND_MS);
    });

    it("shrinks a personal key on B within a second of its owner's demotion on A", async () => {
      const admin = await org.addMember('ADMIN');
      const { token } = await org.createKey(admin);
      expect((await call(b, 'GET', '/api/api-keys', { token })).status).toBe(200);
      expect((await call(a, 'PATCH', `/api/members/${admin.userId}`, { token: org.owner.session, body: { role: 'VIEWER' } })).status).toBe(200);
      expect(await within(async () => (await call(b, 'GET', '/api/api-keys', { token })).status, 403)).toBeLessThan(BOUND_MS);
    });
  });
}

describe.runIf(pgReady)('the invalidation log on PostgreSQL', () => {
  suite('two instances without Redis', async () => {
    const shared = await openTestStore('postgres');
    const second = await openStore(shared.url, { schema: shared.schema });
    const [a, b] = await pair(shared, second);
    return {
      a,
      b,
      async close() {
        await b.close();
        await a.close();
        await second.close();
        await shared.close();
      },
    };
  });

  describe('when notifications are lost', () => {
    let shared: TestStore;
    let second: KyselyStore;
    let a: TestServer;
    let b: TestServer;
    let org: OrgFixture;
    let admin: pg.Client;
    const prefix = `test-${randomBytes(4).toString('hex')}`;

    beforeAll(async () => {
      shared = await openTestStore('postgres');
      second = await openStore(shared.url, { schema: shared.schema });
      [a, b] = await pair(shared, second, { KEYWARD_REDIS_URL: redisUrl, KEYWARD_REDIS_PREFIX: prefix });
      org = await createOrg(a);
      admin = new pg.Client({ connectionString: shared.url });
      await admin.connect();
    });
    afterAll(async () => {
      await admin?.end();
      await b?.close();
      await a?.close();
      await second?.close();
      await shared?.close();
    });

    const listeners = async () =>
      Number((await admin.query(`select count(*) as n from pg_stat_activity where application_name = 'keyward-listen'`)).rows[0].n);

    it('still refuses a revoked key within a second when every LISTEN connection is killed, and listens again', async () => {
      expect(await listeners()).toBeGreaterThanOrEqual(2);
      const { token, apiKey } = await org.createKey(org.owner);
      expect((await call(b, 'GET', '/api/auth/whoami', { token })).status).toBe(200);
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'keyward-listen'`);
      // Redis, too, drops its publishers (not its subscribers): the publish of this revoke is lost.
      const redis = new Redis(redisUrl);
      await redis.client('KILL', 'TYPE', 'normal');
      redis.disconnect();
      expect((await call(a, 'DELETE', `/api/api-keys/${apiKey.id}`, { token: org.owner.session })).status).toBe(200);
      expect(await within(async () => (await call(b, 'GET', '/api/auth/whoami', { token })).status, 401)).toBeLessThan(BOUND_MS);
      const deadline = Date.now() + 5000;
      while ((await listeners()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await listeners()).toBeGreaterThanOrEqual(2);
    });
  });
});

describe('the invalidation log on one SQLite file shared by two processes', () => {
  let dir: string;
  suite('two instances on one file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyward-log-'));
    const url = `sqlite:${join(dir, 'keyward.db')}`;
    const first = await openStore(url, { migrate: true });
    const second = await openStore(url);
    const [a, b] = await pair(first, second);
    return {
      a,
      b,
      async close() {
        await b.close();
        await a.close();
        await second.close();
        await first.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});
