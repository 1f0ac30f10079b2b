import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '@keyward/store';
import { openTestStore, postgresAvailable, type TestStore } from '@keyward/store/testing';
import type { Store } from '@keyward/core';
import { call, createOrg, startServer, type TestServer } from '../support/server.js';
import { redisAvailable, sharedRedisUrl } from '../support/redis-server.js';

const redisUrl = sharedRedisUrl;

const ready = process.env.CI === 'true' || ((await postgresAvailable()) && (await redisAvailable()));
if (!ready) console.warn('SKIPPED: two-instance tests need PostgreSQL and Redis on 127.0.0.1 (under CI=true they run and fail instead).');

/** Two server instances over one PostgreSQL database and one Redis (mode M of SECURITY.md §3). */
describe.runIf(ready)('two instances over PostgreSQL and Redis', () => {
  let shared: TestStore;
  let second: Store;
  let a: TestServer;
  let b: TestServer;
  const env = () => ({ KEYWARD_REDIS_URL: redisUrl, KEYWARD_REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`, KEYWARD_AUTH_FAILURES_PER_MINUTE: '100000' });

  beforeAll(async () => {
    shared = await openTestStore('postgres');
    second = await openStore(shared.url, { schema: shared.schema });
    const settings = env();
    a = await startServer({ store: shared, env: settings });
    // Both instances share the pepper and encryption key, as a deployment does.
    b = await startServer({ store: second, env: { ...settings, KEYWARD_PEPPER: a.config.peppers[0]!.key.toString('hex'), KEYWARD_ENCRYPTION_KEY: a.config.encryptionKey.toString('hex') } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await second?.close();
    await shared?.close();
  });

  it('refuses a key on instance B in the very next request after it was revoked on A (R24)', async () => {
    const org = await createOrg(a);
    for (let round = 0; round < 5; round++) {
      const { token, apiKey } = await org.createKey(org.owner);
      for (let i = 0; i < 20; i++) expect((await call(b, 'GET', '/api/auth/whoami', { token })).status).toBe(200);
      const revoked = await call(a, 'DELETE', `/api/api-keys/${apiKey.id}`, { token: org.owner.session });
      expect(revoked.status).toBe(200);
      const statuses = await Promise.all(Array.from({ length: 200 }, () => call(b, 'GET', '/api/auth/whoami', { token }).then((r) => r.status)));
      expect(statuses.filter((s) => s === 200)).toHaveLength(0);
    }
  });

  it('shrinks a personal key on B as soon as its owner is demoted on A', async () => {
    const org = await createOrg(a);
    const member = await org.addMember('ADMIN');
    const { token } = await org.createKey(member);
    expect((await call(b, 'GET', '/api/api-keys', { token })).status).toBe(200);
    await call(a, 'PATCH', `/api/members/${member.userId}`, { token: org.owner.session, body: { role: 'VIEWER' } });
    expect((await call(b, 'GET', '/api/api-keys', { token })).status).toBe(403);
  });

  it('counts failed authentication across instances', async () => {
    const settings = { ...env(), KEYWARD_AUTH_FAILURES_PER_MINUTE: '10' };
    const c = await startServer({ store: shared, env: settings });
    const d = await startServer({ store: second, env: settings });
    try {
      for (let i = 0; i < 10; i++) expect((await call(i % 2 ? c : d, 'GET', '/api/auth/whoami', { token: 'kw_bad' })).status).toBe(401);
      expect((await call(c, 'GET', '/api/auth/whoami', { token: 'kw_bad' })).status).toBe(429);
      expect((await call(d, 'GET', '/api/auth/whoami', { token: 'kw_bad' })).status).toBe(429);
    } finally {
      await c.close();
      await d.close();
    }
  });

  it("honours revocations when Redis is unreachable: the store's invalidation log carries them (R49, issue 11)", async () => {
    const dead = await startServer({
      store: second,
      env: { KEYWARD_REDIS_URL: 'redis://127.0.0.1:1', KEYWARD_PEPPER: a.config.peppers[0]!.key.toString('hex'), KEYWARD_ENCRYPTION_KEY: a.config.encryptionKey.toString('hex') },
    });
    try {
      const org = await createOrg(a);
      const { token, apiKey } = await org.createKey(org.owner);
      expect((await call(dead, 'GET', '/api/auth/whoami', { token })).status).toBe(200);
      await call(a, 'DELETE', `/api/api-keys/${apiKey.id}`, { token: org.owner.session });
      // Redis is only an accelerator: the log (LISTEN/NOTIFY, and a poll at least every 200 ms) tells
      // the other instance within the contract's second, and its caches stay trusted meanwhile.
      const deadline = Date.now() + 1000;
      let status: number;
      do status = (await call(dead, 'GET', '/api/auth/whoami', { token })).status;
      while (status === 200 && Date.now() < deadline);
      expect(status).toBe(401);
      expect(dead.composed.services.deps.bus.healthy).toBe(true);
    } finally {
      await dead.close();
    }
  });
});
