import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@keyward/server';
import { openStore } from '@keyward/store';
import { openTestStore, postgresAvailable } from '@keyward/store/testing';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';
import { redisAvailable, sharedRedisUrl } from '../support/redis-server.js';

/**
 * SECURITY.md R46, "key-creation rate per user": a person may create at most
 * KEYWARD_KEY_CREATIONS_PER_MINUTE keys a minute, whether through a session or their personal keys;
 * a service key has its own count. Beyond it, 429 `rate_limited` with Retry-After. @see issue 10.
 */
const create = (server: TestServer, token: string, body: Record<string, unknown> = {}) =>
  call(server, 'POST', '/api/api-keys', { token, body: { name: `key ${randomBytes(4).toString('hex')}`, ...body } });

function expectRateLimited(answer: Awaited<ReturnType<typeof create>>): void {
  expect(answer.status, answer.text).toBe(429);
  expect(answer.body.error).toBe('rate_limited');
  const retryAfter = Number(answer.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

for (const dialect of await dialects()) {
  describe(`key creations per person per minute on ${dialect}`, () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startServer({ dialect, env: { KEYWARD_KEY_CREATIONS_PER_MINUTE: '3' } });
    });
    afterAll(async () => server?.close());

    it('refuses the 4th key of a minute with 429 and Retry-After, through the session and the same person\'s keys alike; others go on', async () => {
      const org: OrgFixture = await createOrg(server);
      const admin = await org.addMember('ADMIN');
      const personalKey = (await create(server, admin.session, { permissionMode: 'all' })).body.token as string;
      expect(personalKey).toBeTruthy();
      const viaKey = await create(server, personalKey, { assignedToUserId: admin.userId });
      expect(viaKey.status, viaKey.text).toBe(201);
      expect((await create(server, admin.session)).status).toBe(201);
      expectRateLimited(await create(server, admin.session));
      expectRateLimited(await create(server, personalKey, { assignedToUserId: admin.userId }));
      // Another person, and the organization's service key, each have their own count.
      expect((await create(server, org.owner.session)).status).toBe(201);
      expect((await create(server, org.adminKey, { keyType: 'service' })).status).toBe(201);
    });

    it('gives a service key its own count, apart from the people of its organization', async () => {
      const org = await createOrg(server);
      for (let i = 0; i < 3; i++) expect((await create(server, org.adminKey, { keyType: 'service' })).status).toBe(201);
      expectRateLimited(await create(server, org.adminKey, { keyType: 'service' }));
      expectRateLimited(await create(server, org.adminKey, { keyType: 'personal', assignedToUserId: org.owner.userId }));
      expect((await create(server, org.owner.session)).status).toBe(201);
    });

    it('counts only keys created: refused requests spend nothing', async () => {
      const org = await createOrg(server);
      for (let i = 0; i < 5; i++) {
        const refused = await create(server, org.owner.session, { projectIds: ['proj_doesnotexist'] });
        expect(refused.status, refused.text).toBe(422);
      }
      for (let i = 0; i < 3; i++) expect((await create(server, org.owner.session)).status).toBe(201);
      expectRateLimited(await create(server, org.owner.session));
      const listed = await call(server, 'GET', '/api/api-keys?status=all&limit=100', { token: org.owner.session });
      expect(listed.body.data.filter((k: any) => k.createdByUserId === org.owner.userId || k.ownerUserId === org.owner.userId)).toHaveLength(3);
    });

    it('never lets concurrent requests create more than the limit between them', async () => {
      const org = await createOrg(server);
      const answers = await Promise.all(Array.from({ length: 12 }, () => create(server, org.owner.session)));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([201, 201, 201, ...Array(9).fill(429)]);
    });
  });
}

describe('KEYWARD_KEY_CREATIONS_PER_MINUTE', () => {
  it('defaults to 30 a minute', async () => {
    const server = await startServer({ env: { KEYWARD_KEY_CREATIONS_PER_MINUTE: '' } });
    try {
      expect(server.config.keyCreationsPerMinute).toBe(30);
      const org = await createOrg(server);
      for (let i = 0; i < 30; i++) expect((await create(server, org.owner.session)).status, `key ${i + 1}`).toBe(201);
      expectRateLimited(await create(server, org.owner.session));
    } finally {
      await server.close();
    }
  });

  it('turns the limit off with 0', async () => {
    const server = await startServer({ env: { KEYWARD_KEY_CREATIONS_PER_MINUTE: '0' } });
    try {
      const org = await createOrg(server);
      for (let i = 0; i < 40; i++) expect((await create(server, org.owner.session)).status, `key ${i + 1}`).toBe(201);
    } finally {
      await server.close();
    }
  });

  it('refuses a value that is not a whole number from 0', () => {
    const base = { KEYWARD_DATABASE_URL: 'sqlite::memory:', KEYWARD_PEPPER: 'a'.repeat(64), KEYWARD_ENCRYPTION_KEY: 'b'.repeat(64) };
    for (const value of ['-1', '2.5', 'many']) {
      expect(() => loadConfig({ ...base, KEYWARD_KEY_CREATIONS_PER_MINUTE: value })).toThrow(/KEYWARD_KEY_CREATIONS_PER_MINUTE/);
    }
  });
});

const redisUrl = sharedRedisUrl;

const twoInstances = process.env.CI === 'true' || ((await postgresAvailable()) && (await redisAvailable()));
if (!twoInstances) console.warn('SKIPPED: the two-instance key-creation test needs PostgreSQL and Redis on 127.0.0.1 (under CI=true it runs and fails instead).');

describe.runIf(twoInstances)('key creations per person across two instances sharing Redis', () => {
  it('counts a person\'s creations on every instance against one limit', async () => {
    const shared = await openTestStore('postgres');
    const second = await openStore(shared.url, { schema: shared.schema });
    const settings = { KEYWARD_REDIS_URL: redisUrl, KEYWARD_REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`, KEYWARD_KEY_CREATIONS_PER_MINUTE: '3' };
    const a = await startServer({ store: shared, env: settings });
    const b = await startServer({ store: second, env: { ...settings, KEYWARD_PEPPER: a.config.peppers[0]!.key.toString('hex'), KEYWARD_ENCRYPTION_KEY: a.config.encryptionKey.toString('hex') } });
    try {
      const org = await createOrg(a);
      expect((await create(a, org.owner.session)).status).toBe(201);
      expect((await create(b, org.owner.session)).status).toBe(201);
      expect((await create(a, org.owner.session)).status).toBe(201);
      expectRateLimited(await create(b, org.owner.session));
      expectRateLimited(await create(a, org.owner.session));
    } finally {
      await b.close();
      await a.close();
      await second.close();
      await shared.close();
    }
  });
});
