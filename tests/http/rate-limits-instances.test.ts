import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createVerifier } from '@keyward/core';
import { openStore } from '@keyward/store';
import { openTestStore, postgresAvailable, type TestStore } from '@keyward/store/testing';
import type { Store } from '@keyward/core';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { redisAvailable, redisServerAvailable, sharedRedisUrl, startOwnRedis, type OwnRedis } from '../support/redis-server.js';

/**
 * Rate limits and credits across instances (issue 14): two instances over one PostgreSQL database
 * sharing Redis accept exactly the limit and spend credits exactly once between them; a flushed
 * script cache is resent; while Redis is down each instance counts alone, says so, and never fails.
 * @see issue 14
 */

const ready = process.env.CI === 'true' || ((await postgresAvailable()) && (await redisAvailable()) && (await redisServerAvailable()));
if (!ready) console.warn('SKIPPED: rate limits across instances need PostgreSQL, Redis and redis-server on 127.0.0.1 (under CI=true they run and fail instead).');

describe.runIf(ready)('rate limits and credits across two instances sharing Redis', () => {
  let shared: TestStore;
  let second: Store;
  let a: TestServer;
  let b: TestServer;
  let org: OrgFixture;
  let verifier: string;
  const prefix = `test-${randomBytes(4).toString('hex')}`;

  const verify = (server: TestServer, body: Record<string, unknown>) => call(server, 'POST', '/api/keys/verify', { token: verifier, body });
  /** `n` verifications at once, alternating between the instances. */
  const spread = (n: number, body: Record<string, unknown>) => Promise.all(Array.from({ length: n }, (_, i) => verify(i % 2 ? b : a, body)));
  const codes = (answers: { body: { code: string } }[]) => {
    const counted: Record<string, number> = {};
    for (const answer of answers) counted[answer.body.code] = (counted[answer.body.code] ?? 0) + 1;
    return counted;
  };

  beforeAll(async () => {
    shared = await openTestStore('postgres');
    second = await openStore(shared.url, { schema: shared.schema });
    const env = { KEYWARD_REDIS_URL: sharedRedisUrl, KEYWARD_REDIS_PREFIX: prefix, KEYWARD_USAGE_FLUSH_MS: '100000' };
    a = await startServer({ store: shared, env });
    b = await startServer({ store: second, env: { ...env, KEYWARD_PEPPER: a.config.peppers[0]!.key.toString('hex'), KEYWARD_ENCRYPTION_KEY: a.config.encryptionKey.toString('hex') } });
    org = await createOrg(a);
    verifier = (await createVerifier(a.composed.services.deps, { name: 'gateway', orgId: null })).token;
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await second?.close();
    await shared?.close();
  });

  it('accepts exactly 30 of 100 verifications spread over both instances against a limit of 30', async () => {
    const { token, apiKey } = await org.createKey(org.owner, { rateLimits: [{ name: 'minute', limit: 30, windowSeconds: 3600 }] });
    const answers = await spread(100, { key: token });
    expect(codes(answers)).toEqual({ VALID: 30, RATE_LIMITED: 70 });
    // Both instances see the same window.
    for (const server of [a, b]) {
      const key = (await call(server, 'GET', `/api/api-keys/${apiKey.id}`, { token: org.owner.session })).body;
      expect(key.rateLimitUse[0]).toMatchObject({ name: 'minute', limit: 30, used: 30 });
    }
  });

  it('spends credits exactly once between the instances, writes each instance\'s spending once, and changes them for both', async () => {
    const { token, apiKey } = await org.createKey(org.owner, { credits: { remaining: 40 } });
    const answers = await spread(90, { key: token, cost: 1 });
    expect(codes(answers)).toEqual({ VALID: 40, USAGE_EXCEEDED: 50 });
    await Promise.all([a.composed.services.usage.flush(), b.composed.services.usage.flush()]);
    expect((await call(a, 'GET', `/api/api-keys/${apiKey.id}`, { token: org.owner.session })).body.credits.remaining).toBe(0);

    // A change on A is what B counts from at once.
    expect((await call(a, 'POST', `/api/api-keys/${apiKey.id}/credits`, { token: org.owner.session, body: { op: 'increment', amount: 10 } })).body).toEqual({ remaining: 10 });
    expect(codes(await spread(16, { key: token }))).toEqual({ VALID: 10, USAGE_EXCEEDED: 6 });
    await Promise.all([a.composed.services.usage.flush(), b.composed.services.usage.flush()]);
    expect((await call(b, 'GET', `/api/api-keys/${apiKey.id}`, { token: org.owner.session })).body.credits.remaining).toBe(0);
  });

  it('resends the script after Redis forgot it (SCRIPT FLUSH), with nothing counted twice', async () => {
    const { token } = await org.createKey(org.owner, { rateLimits: [{ name: 'hour', limit: 5, windowSeconds: 3600 }] });
    expect(codes(await spread(3, { key: token }))).toEqual({ VALID: 3 });
    const admin = new Redis(sharedRedisUrl);
    try {
      await admin.script('FLUSH');
    } finally {
      admin.disconnect();
    }
    expect(codes(await spread(4, { key: token }))).toEqual({ VALID: 2, RATE_LIMITED: 2 });
  });
});

describe.runIf(ready)('rate limits while Redis is down', () => {
  let redis: OwnRedis;
  let server: TestServer;
  let org: OrgFixture;
  let verifier: string;

  beforeAll(async () => {
    redis = await startOwnRedis();
    server = await startServer({ dialect: 'postgres', env: { KEYWARD_REDIS_URL: redis.url, KEYWARD_REDIS_PREFIX: `kw-${randomBytes(4).toString('hex')}` } });
    org = await createOrg(server);
    verifier = (await createVerifier(server.composed.services.deps, { name: 'gateway', orgId: null })).token;
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('counts alone while Redis is gone (still exact on this instance), says so in /readyz and the log, and shares again once it is back', async () => {
    const { token } = await org.createKey(org.owner, { rateLimits: [{ name: 'hour', limit: 5, windowSeconds: 3600 }], credits: { remaining: 100 } });
    const verify = () => call(server, 'POST', '/api/keys/verify', { token: verifier, body: { key: token } });
    expect((await verify()).body.code).toBe('VALID');
    expect((await call(server, 'GET', '/readyz')).body.checks.rateLimits).toBe('shared');
    await redis.kill();
    const during = await Promise.all(Array.from({ length: 8 }, verify));
    expect(during.every((answer) => answer.status === 200)).toBe(true);
    // This instance alone: its own window starts empty, and counts exactly.
    expect(during.filter((answer) => answer.body.code === 'VALID')).toHaveLength(5);
    expect((await call(server, 'GET', '/readyz')).body.checks.rateLimits).toBe('alone');
    expect(server.logs.some((line) => line.includes('counted by this instance alone'))).toBe(true);
    await redis.restart();
    const deadline = Date.now() + 10_000;
    while ((await call(server, 'GET', '/readyz')).body.checks.rateLimits !== 'shared') {
      if (Date.now() > deadline) throw new Error('Redis never came back for the meter');
      await verify();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  it('answers within seconds while Redis hangs (SIGSTOP), never a 5xx', async () => {
    const { token } = await org.createKey(org.owner, { rateLimits: [{ name: 'hour', limit: 1000, windowSeconds: 3600 }] });
    redis.pause();
    try {
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 20 }, () => call(server, 'POST', '/api/keys/verify', { token: verifier, body: { key: token } })));
      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
      expect(answers.every((answer) => answer.body.code === 'VALID')).toBe(true);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      redis.resume();
    }
  });
});
